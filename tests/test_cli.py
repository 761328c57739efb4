"""The command line as operators and CI use it: output, JSON, exit codes.

In-process through click's CliRunner (``invoke``), except where a real process is the point
(signals).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from storedb.cli import main
from tests.helpers import HISTORY, dsn_of, history, invoke, tables

FILES = {"schema/00_base.sql": "create table items (id int primary key);\n",
         "migrations/001_more.sql": "alter table items add column name text;\n"}


def test_migrate_prints_a_line_per_file_then_up_to_date(empty_dsn: str,
                                                        sqldir: Callable[..., Path]) -> None:
    root = sqldir(FILES)
    first = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    assert first.code == 0
    assert "applied schema/00_base.sql in" in first.err
    assert "applied migrations/001_more.sql in" in first.err
    assert "applied 2 file(s)" in first.out
    second = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    assert (second.code, second.out.strip()) == (0, "up to date: nothing to apply")


def test_dry_run_lists_and_applies_nothing(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(FILES)
    result = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root), "--dry-run")
    assert result.out.split("\n")[:2] == ["would apply schema/00_base.sql",
                                          "would apply migrations/001_more.sql"]
    sql = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root), "--dry-run", "--sql")
    assert "create table items (id int primary key);" in sql.out
    assert history(empty_dsn) == []


def test_status_json_shape(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(FILES)
    invoke("migrate", "--dsn", empty_dsn, "--dir", str(root), "--target", "schema/00_base.sql")
    result = invoke("status", "--dsn", empty_dsn, "--dir", str(root), "--json")
    payload = json.loads(result.out)
    first, second = payload["migrations"]
    assert first["file"] == "schema/00_base.sql" and first["state"] == "applied"
    assert len(first["checksum"]) == 64 and first["applied_at"] and first["duration_ms"] >= 0
    assert second == {**second, "file": "migrations/001_more.sql", "state": "pending",
                      "applied_at": None}
    table = invoke("status", "--dsn", empty_dsn, "--dir", str(root)).out
    assert "schema/00_base.sql" in table and "pending" in table


def test_check_exit_codes(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(FILES)
    pending = invoke("check", "--dsn", empty_dsn, "--dir", str(root))
    assert pending.code == 3 and "pending  schema/00_base.sql" in pending.out
    invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    assert invoke("check", "--dsn", empty_dsn, "--dir", str(root)).code == 0
    sqldir({"migrations/001_more.sql": FILES["migrations/001_more.sql"] + "-- typo\n"})
    changed = invoke("check", "--dsn", empty_dsn, "--dir", str(root), "--json")
    assert changed.code == 3
    assert json.loads(changed.out)["problems"][0]["state"] == "changed"


def test_new_creates_next_numbered_file_with_header(sqldir: Callable[..., Path]) -> None:
    root = sqldir(FILES)
    result = invoke("new", "Add invoices table", "--dir", str(root))
    assert result.code == 0
    created = Path(result.out.strip())
    assert created == root / "migrations" / "002_add_invoices_table.sql"
    text = created.read_text()
    assert text.startswith("-- migrations/002_add_invoices_table.sql")
    assert "Locks:" in text and "Undo:" in text


def test_diff_accept_and_status_show_the_accepted_edit(empty_dsn: str,
                                                       sqldir: Callable[..., Path]) -> None:
    root = sqldir(FILES)
    invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    sqldir({"schema/00_base.sql": "-- the items table\n" + FILES["schema/00_base.sql"]})
    diff = invoke("diff", "schema/00_base.sql", "--dsn", empty_dsn, "--dir", str(root))
    assert diff.code == 0
    assert "--- schema/00_base.sql (as applied)" in diff.out
    assert "+-- the items table" in diff.out
    refused = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    assert refused.code == 1
    accepted = invoke("accept", "schema/00_base.sql", "--reason", "comment only",
                       "--dsn", empty_dsn, "--dir", str(root))
    assert accepted.code == 0 and "nothing was run" in accepted.out
    assert invoke("migrate", "--dsn", empty_dsn, "--dir", str(root)).code == 0
    status = json.loads(invoke("status", "--dsn", empty_dsn, "--dir", str(root),
                                "--json").out)
    accepted_entry = status["migrations"][0]
    assert accepted_entry["accepted"]["reason"] == "comment only"
    assert accepted_entry["accepted"]["by"] == "postgres"
    with psycopg.connect(empty_dsn) as conn:
        kept = conn.execute(f"select sql_text, applied_checksum <> checksum from {HISTORY}"
                            " where filename = 'schema/00_base.sql'").fetchone()
        log = conn.execute("select event, detail from storedb.schema_migrations_log where event = "
                           "'accept'").fetchall()
    assert kept == (FILES["schema/00_base.sql"], True)  # the SQL as it ran stays on record
    assert log == [("accept", "comment only")]


def test_accept_refuses_unapplied_and_unknown_files(empty_dsn: str,
                                                    sqldir: Callable[..., Path]) -> None:
    root = sqldir(FILES)
    unapplied = invoke("accept", "schema/00_base.sql", "--reason", "x", "--dsn", empty_dsn,
                        "--dir", str(root))
    assert unapplied.code == 1 and "has not been applied" in unapplied.err
    unknown = invoke("diff", "schema/99_nope.sql", "--dsn", empty_dsn, "--dir", str(root))
    assert unknown.code == 2 and "no such migration file" in unknown.err


def test_baseline_marks_without_running_and_refuses_existing_history(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(FILES)
    with psycopg.connect(empty_dsn, autocommit=True) as conn:  # a database built by hand
        conn.execute("create table items (id int primary key)")
    result = invoke("baseline", "--through", "schema/00_base.sql", "--dsn", empty_dsn,
                     "--dir", str(root))
    assert result.code == 0 and "recorded schema/00_base.sql (not run)" in result.out
    assert invoke("migrate", "--dsn", empty_dsn, "--dir", str(root)).code == 0
    assert [h[0] for h in history(empty_dsn)] == ["migrations/001_more.sql",
                                                  "schema/00_base.sql"]
    again = invoke("baseline", "--through", "migrations/001_more.sql", "--dsn", empty_dsn,
                    "--dir", str(root))
    assert again.code == 1 and "already has a storedb history" in again.err
    status = invoke("status", "--dsn", empty_dsn, "--dir", str(root)).out
    assert "baseline (recorded, not run)" in status


def test_fleet_migrates_each_database_and_reports_failures(
        empty_dsn: str, migrated_db: psycopg.Connection[object], sqldir: Callable[..., Path],
        tmp_path: Path) -> None:
    root = sqldir(FILES)
    info = migrated_db.info
    with psycopg.connect(dsn_of(migrated_db), autocommit=True) as admin:
        admin.execute("drop database if exists fleet_b")
        admin.execute("create database fleet_b")
    other = f"host={info.host} port={info.port} user=postgres dbname=fleet_b"
    broken = f"host={info.host} port={info.port} user=postgres dbname=no_such_db password=Hid-9"
    dsn_file = tmp_path / "fleet.txt"
    dsn_file.write_text(f"# shards\n{empty_dsn}\n{other}\n\n{broken}\n")
    result = invoke("migrate", "--dsn-file", str(dsn_file), "--dir", str(root), "--jobs", "3")
    assert result.code == 1  # one database failed
    assert "2 of 3 databases ok" in result.out
    assert "FAILED" in result.out and "no_such_db" in result.out
    assert "Hid-9" not in result.out + result.err
    assert len(history(empty_dsn)) == 2 and len(history(other)) == 2
    ok = invoke("migrate", "--dsn", empty_dsn, "--dsn", other, "--dir", str(root), "--json")
    assert ok.code == 0
    assert [d["ok"] for d in json.loads(ok.out)["databases"]] == [True, True]


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name, command in main.commands.items():
        assert command.help, name
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name


@pytest.mark.parametrize("args", [["status"], ["migrate"], ["check"]])
def test_password_never_printed_even_in_json(args: list[str], tmp_path: Path) -> None:
    dsn = f"postgresql://u:Very-Secret-1@/x?host={tmp_path}&port=5998"
    result = invoke(*args, "--dsn", dsn, "--json")
    assert result.code == 1
    assert "Very-Secret-1" not in result.out + result.err
    assert json.loads(result.out)["error"]["type"] == "ConnectError"


def test_json_even_for_usage_errors() -> None:
    result = invoke("migrate", "--json", "--bogus")
    assert result.code == 2
    assert json.loads(result.out)["error"]["type"] == "UsageError"


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "soon"])
def test_timeouts_must_be_finite_seconds(value: str) -> None:
    result = invoke("migrate", "--statement-lock-timeout", value)
    assert result.code == 2 and "Invalid value for '--statement-lock-timeout'" in result.err


def test_malformed_dsn_in_a_fleet_fails_only_that_database(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(FILES)
    bad = "postgresql://u:s3%ZZcret@h/db"
    result = invoke("migrate", "--dsn", empty_dsn, "--dsn", bad, "--dir", str(root))
    assert result.code == 1 and "1 of 2 databases ok" in result.out
    assert "s3%ZZcret" not in result.out + result.err and "Traceback" not in result.err
    assert len(history(empty_dsn)) == 2


SLEEPING = ("select count(*) from pg_stat_activity where query like '%pg_sleep(60)%' "
            "and state = 'active' and pid <> pg_backend_pid()")


@pytest.mark.matrix
@pytest.mark.slow  # a real process, killed by a signal
@pytest.mark.parametrize("sig, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_ctrl_c_cancels_the_statement_and_rolls_back(sig: str, code: int, empty_dsn: str,
                                                     sqldir: Callable[..., Path]) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    root = sqldir({"migrations/001_slow.sql": "create table slow (id int);\n"
                   "select pg_sleep(60);\n"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    proc = subprocess.Popen([sys.executable, "-m", "storedb", "migrate", "--dsn", empty_dsn,
                             "--dir", str(root)], stderr=subprocess.PIPE, text=True, env=env)
    with psycopg.connect(empty_dsn, autocommit=True) as watch:
        deadline = time.monotonic() + 30
        while watch.execute(SLEEPING).fetchone() != (1,):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        started = time.monotonic()
        proc.send_signal(getattr(signal, sig))
        _, err = proc.communicate(timeout=30)
        assert time.monotonic() - started < 10  # cancelled, not waited out
        # the server ends the statement at once; on a loaded machine its row in
        # pg_stat_activity may take a moment to say so
        while watch.execute(SLEEPING).fetchone() != (0,):
            assert time.monotonic() - started < 10, "the statement kept running"
            time.sleep(0.05)
    assert proc.returncode == code
    assert ("interrupted" if code == 130 else "terminated") in err and "Traceback" not in err
    assert "slow" not in tables(empty_dsn)
    assert history(empty_dsn) == []



def test_storedb_dir_beats_infra_db_which_beats_the_shipped_sql(
        empty_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import SHIPPED_SQL_DIR

    app = tmp_path / "app"  # the working directory has an infra/db of its own
    (app / "infra" / "db" / "migrations").mkdir(parents=True)
    (app / "infra" / "db" / "migrations" / "001_from_cwd.sql").write_text(
        "create table from_cwd (id int);\n")
    elsewhere = tmp_path / "deploy" / "sql"  # what STOREDB_DIR names
    (elsewhere / "migrations").mkdir(parents=True)
    (elsewhere / "migrations" / "001_from_env.sql").write_text("create table from_env (id int);\n")
    monkeypatch.chdir(app)
    env = {"STOREDB_DIR": str(elsewhere)}
    dry = invoke("migrate", "--dsn", empty_dsn, "--dry-run", env=env)
    assert (dry.code, dry.out) == (0, "would apply migrations/001_from_env.sql\n")
    assert invoke("migrate", "--dsn", empty_dsn, env=env).code == 0
    assert [h[0] for h in history(empty_dsn)] == ["migrations/001_from_env.sql"]
    assert "from_env" in tables(empty_dsn) and "from_cwd" not in tables(empty_dsn)
    unset = {"STOREDB_DIR": ""}  # empty counts as unset (the PostgreSQL 14 run sets it)
    here = json.loads(invoke("status", "--dsn", empty_dsn, "--json", env=unset).out)  # ./infra/db
    assert {m["file"]: m["state"] for m in here["migrations"]} == {
        "migrations/001_from_cwd.sql": "pending", "migrations/001_from_env.sql": "missing"}
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")  # no infra/db, no STOREDB_DIR: the shipped SQL
    shipped = invoke("status", "--dsn", empty_dsn, "--json", env=unset)
    assert shipped.err == ("storedb: no ./infra/db here and no --dir or STOREDB_DIR: using the "
                           f"SQL shipped with storedb ({SHIPPED_SQL_DIR})\n")
    assert json.loads(shipped.out)["migrations"][0]["file"] == "schema/00_base.sql"
