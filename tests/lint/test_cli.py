"""``storedb lint`` and ``migrate --lint`` as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers import SQL_DIR, history, run_cli, tables

BASE = "create table plain (id bigint generated always as identity primary key, name text);\n"
BAD = "create index plain_name_idx on plain (name);\n"
#: Proof that static lint of named files never connects: this would fail at once.
NO_SERVER = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"}


def test_lint_all_of_the_shipped_sql_exits_0_without_a_database() -> None:
    result = run_cli("lint", "--all", "--dir", str(SQL_DIR), env=NO_SERVER)
    assert result.code == 0, result.out + result.err
    assert "lint ok" in result.out


def test_findings_exit_3_with_the_json_shape(sqldir: Callable[..., Path]) -> None:
    root = sqldir({"migrations/001_base.sql": BASE, "migrations/002_index.sql": BAD})
    result = run_cli("lint", "--all", "--json", "--dir", str(root), env=NO_SERVER)
    assert result.code == 3, result.err
    (found,) = json.loads(result.out)["findings"]
    assert set(found) == {"file", "line", "column", "rule", "severity", "message", "fix"}
    assert (found["file"], found["line"], found["column"], found["rule"], found["severity"]) == (
        "migrations/002_index.sql", 1, 1, "create-index-not-concurrent", "error")


def test_a_file_is_named_as_status_shows_it_or_by_its_path(sqldir: Callable[..., Path]) -> None:
    root = sqldir({"migrations/001_base.sql": BASE, "migrations/002_index.sql": BAD})
    for given, cwd in (("migrations/002_index.sql", None),
                       ("sql/migrations/002_index.sql", root.parent),
                       (str(root / "migrations" / "002_index.sql"), None)):
        result = run_cli("lint", given, "--dir", str(root), env=NO_SERVER, cwd=cwd)
        assert result.code == 3, (given, result.err)
        assert "migrations/002_index.sql:1:1: error create-index-not-concurrent" in result.out
    result = run_cli("lint", "migrations/009_nope.sql", "--dir", str(root), env=NO_SERVER)
    assert result.code == 2 and "no such file" in result.err


def test_a_file_outside_the_sql_root_is_linted_after_it(sqldir: Callable[..., Path],
                                                       tmp_path: Path) -> None:
    root = sqldir({"migrations/001_base.sql": BASE})
    outside = tmp_path / "draft.sql"
    outside.write_text(BAD)
    result = run_cli("lint", str(outside), "--dir", str(root), env=NO_SERVER)
    assert result.code == 3 and "draft.sql:1:1" in result.out
    # ... with the whole directory as its context: products is a tenant table there
    outside.write_text("create index products_sku_idx on products (sku);\n")
    result = run_cli("lint", str(outside), "--dir", str(SQL_DIR), env=NO_SERVER)
    assert "tenant-index" in result.out and "create-index-not-concurrent" in result.out


def test_default_lints_only_pending_files(sqldir: Callable[..., Path], empty_dsn: str) -> None:
    root = sqldir({"migrations/001_base.sql": BASE, "migrations/002_index.sql": BAD})
    assert run_cli("migrate", "--dsn", empty_dsn, "--dir", str(root), "--target",
                   "migrations/001_base.sql").code == 0
    result = run_cli("lint", "--dsn", empty_dsn, "--dir", str(root), "--json")
    assert result.code == 3
    assert json.loads(result.out)["files"] == ["migrations/002_index.sql"]


def test_migrate_lint_refuses_before_anything_runs(sqldir: Callable[..., Path],
                                                   empty_dsn: str) -> None:
    root = sqldir({"migrations/001_base.sql": BASE, "migrations/002_index.sql": BAD})
    result = run_cli("migrate", "--lint", "--dsn", empty_dsn, "--dir", str(root))
    assert result.code == 1, result.err
    assert "create-index-not-concurrent" in result.err and "nothing was applied" in result.err
    assert history(empty_dsn) == [] and "plain" not in tables(empty_dsn)
    result = run_cli("migrate", "--lint", "--json", "--dsn", empty_dsn, "--dir", str(root))
    assert json.loads(result.out)["error"]["findings"][0]["rule"] == \
        "create-index-not-concurrent"


def test_migrate_lint_runs_clean_files(sqldir: Callable[..., Path], empty_dsn: str) -> None:
    root = sqldir({"migrations/001_base.sql": BASE + BAD})
    result = run_cli("migrate", "--lint", "--dsn", empty_dsn, "--dir", str(root))
    assert result.code == 0, result.err
    assert [f for f, _ in history(empty_dsn)] == ["migrations/001_base.sql"]
