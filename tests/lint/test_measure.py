"""Measured mode on a real database: real locks, rewrites, row counts; nothing changes."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from storedb.lint import lint
from tests.helpers import history

ROWS = 300_000
PENDING = """
create index big_a_idx on big (a);
create index small_a_idx on small (a);
alter table big add column token uuid default gen_random_uuid();
alter table small add column note text;
"""


def _dump(dsn: str) -> str:
    """Schema and data; without the random \\restrict key newer pg_dump versions write."""
    out = subprocess.run(["pg_dump", "-d", dsn], capture_output=True, text=True,
                         check=True).stdout
    return "\n".join(line for line in out.splitlines()
                     if not line.startswith(("\\restrict", "\\unrestrict")))


def _setup(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("create table big (id bigint primary key, a int)")
        conn.execute("create table small (id bigint primary key, a int)")
        conn.execute(f"insert into big select g, g % 1000 from generate_series(1, {ROWS}) g")
        conn.execute("analyze big; analyze small")


def test_measured_locks_rewrites_and_ranking(sqldir: Callable[..., Path], empty_dsn: str) -> None:
    _setup(empty_dsn)
    root = sqldir({"migrations/001_change.sql": PENDING,
                   "migrations/002_concurrently.sql": "-- storedb:no-transaction\n"
                   "drop index concurrently if exists big_b_idx;\n"})
    before = (_dump(empty_dsn), history(empty_dsn))
    result = lint(empty_dsn, directory=root, measure=True)
    assert (_dump(empty_dsn), history(empty_dsn)) == before  # nothing changed

    measured = {(f.line, f.rule): f for f in result.findings if f.measured}
    big_index = measured[(2, "measured-lock")]
    (lock,) = big_index.measured.locks  # type: ignore[union-attr]
    assert (lock.relation, lock.mode) == ("public.big", "SHARE")
    assert lock.blocks == ("INSERT", "UPDATE", "DELETE")
    assert abs(lock.rows - ROWS) < ROWS * 0.05 and big_index.severity == "error"
    small_index = measured[(3, "measured-lock")]
    assert small_index.measured.rows == 0 and small_index.severity == "warning"  # type: ignore
    rewrite = measured[(4, "measured-rewrite")]
    assert rewrite.measured.rewritten == ("public.big",)  # type: ignore[union-attr]
    assert "ACCESS EXCLUSIVE on public.big" in rewrite.message
    # the same unsafe index ranks higher on the big table than on the empty one
    order = [(f.line, f.rule) for f in result.findings]
    assert order.index((2, "create-index-not-concurrent")) < \
        order.index((3, "create-index-not-concurrent"))
    # a catalog-only change takes ACCESS EXCLUSIVE too (here on an empty table): a warning
    brief = measured[(5, "measured-lock")]
    assert brief.severity == "warning"
    assert [lock.mode for lock in brief.measured.locks] == ["ACCESS EXCLUSIVE"]  # type: ignore
    assert any("002_concurrently.sql: no-transaction file, static rules only" in n
               for n in result.notes)


def test_measure_waits_only_lock_timeout_and_says_so(sqldir: Callable[..., Path],
                                                     empty_dsn: str) -> None:
    _setup(empty_dsn)
    root = sqldir({"migrations/001_change.sql": "alter table small add column note text;\n"})
    with psycopg.connect(empty_dsn) as holder:
        holder.execute("select * from small")  # an open transaction holding ACCESS SHARE
        started = time.monotonic()
        result = lint(empty_dsn, directory=root, measure=True, lock_timeout=0.3)
        assert time.monotonic() - started < 5
    (found,) = result.findings
    assert found.rule == "measure-failed" and "lock" in found.message
    assert found.severity == "warning"


def test_a_failing_statement_is_reported_and_rolled_back(sqldir: Callable[..., Path],
                                                         empty_dsn: str) -> None:
    _setup(empty_dsn)
    root = sqldir({"migrations/001_change.sql": "create table t2 (a text);\n"
                   "alter table nope add column x text;\n"})
    result = lint(empty_dsn, directory=root, measure=True)
    (found,) = result.findings
    assert (found.rule, found.line) == ("measure-failed", 2)
    assert 'relation "nope" does not exist' in found.message
    with psycopg.connect(empty_dsn) as conn:
        assert conn.execute("select to_regclass('t2')").fetchone() == (None,)


def test_cli_measure_reports_measured_findings_in_json(sqldir: Callable[..., Path],
                                                       empty_dsn: str) -> None:
    import json

    from tests.helpers import run_cli

    _setup(empty_dsn)
    root = sqldir({"migrations/001_change.sql": "create index big_a_idx on big (a);\n"})
    result = run_cli("lint", "--measure", "--json", "--dsn", empty_dsn, "--dir", str(root))
    assert result.code == 3, result.err
    out = json.loads(result.out)
    assert out["measured"] is True
    first = out["findings"][0]
    assert first["measured"]["locks"][0]["mode"] == "SHARE"
    assert first["measured"]["rows"] > ROWS * 0.9
