"""Progress: a line per file, per statement with -v, and every interval about a statement
still running and what it waits on (a wait event, or the lock and its holder)."""

from __future__ import annotations

import threading

import psycopg
import pytest

import storedb
from tests.helpers import run_cli

SLEEPS = ("create table t (id int);\n"
          "select pg_sleep(0.1);\n"
          "select pg_sleep(1.6);\n")


def test_cli_lines_for_files_statements_and_a_long_statement(empty_dsn, sqldir) -> None:
    root = sqldir({"migrations/001_sleep.sql": SLEEPS})
    result = run_cli("migrate", "-v", "--dsn", empty_dsn, "--dir", str(root),
                     env={"STOREDB_PROGRESS_INTERVAL": "0.5"})
    assert result.code == 0, result.err
    err = result.err
    assert "storedb: applying migrations/001_sleep.sql (3 statement(s))" in err
    # one message: PostgreSQL reports its statements at the end, so "1 or later"
    assert ("migrations/001_sleep.sql: statement 1 or later of 3 still running after 1 s: "
            "waiting on Timeout:PgSleep") in err
    assert "statement 1 of 3 (line 1) done" in err  # -v
    assert err.index("applying") < err.index("still running") < err.index("applied migrations")
    quiet = run_cli("migrate", "-q", "--dsn", empty_dsn, "--dir", str(root))
    assert quiet.code == 0 and quiet.err == ""


def test_library_callback_and_a_no_transaction_file(empty_dsn, sqldir) -> None:
    root = sqldir({"migrations/001_plain.sql": "create table a (id int);\n",
                   "migrations/002_slow.sql": "-- storedb:no-transaction\n"
                   "select 1;\nselect pg_sleep(1.2);\n"})
    events: list[storedb.Progress] = []
    storedb.migrate(empty_dsn, directory=root, on_progress=events.append,
                    progress_interval=0.4)
    kinds = [(e.event, e.file, e.statement) for e in events]
    assert kinds[:4] == [("file-started", "migrations/001_plain.sql", None),
                         ("statement-done", "migrations/001_plain.sql", 1),
                         ("file-done", "migrations/001_plain.sql", None),
                         ("file-started", "migrations/002_slow.sql", None)]
    slow = [e for e in events if e.event == "still-running"]
    assert slow and all(e.statement == 2 and e.file == "migrations/002_slow.sql" for e in slow)
    assert slow[0].text.startswith("migrations/002_slow.sql: statement 2 of 2 (line 3) still "
                                   "running after ")  # no-transaction: exact
    assert slow[0].waiting == "waiting on Timeout:PgSleep" and slow[0].seconds >= 0.4
    assert kinds[-1] == ("file-done", "migrations/002_slow.sql", None)


def test_a_lock_wait_names_the_lock_and_its_holder(owner_dsn, sqldir, migrated_db) -> None:
    root = sqldir(_shipped() | {
        "migrations/900_touch.sql": "alter table products add column extra int;\n"})
    holder = psycopg.connect(owner_dsn, application_name="long-report")
    holder.execute("lock table products in access share mode")  # blocks the ALTER
    timer = threading.Timer(1.5, holder.rollback)
    timer.start()
    events: list[storedb.Progress] = []
    try:
        storedb.migrate(owner_dsn, directory=root, on_progress=events.append,
                        progress_interval=0.4, statement_lock_timeout=10)
    finally:
        timer.cancel()
        holder.close()
    waits = [e.waiting for e in events if e.event == "still-running"]
    assert waits, events
    assert waits[0].startswith("waiting for AccessExclusiveLock on products, held by pid ")
    assert "(long-report, user storedb_owner, idle in transaction, transaction since " in waits[0]


def test_lock_holder_readable_without_superuser(owner_dsn, sqldir, migrated_db) -> None:
    """The migrator is not a superuser: what it may not see is said, never printed as None."""
    root = sqldir(_shipped() | {
        "migrations/900_touch.sql": "alter table products add column extra int;\n"})
    migrated_db.execute("lock table products in access share mode")  # superuser postgres
    with pytest.raises(storedb.MigrationFailed) as caught:
        storedb.migrate(owner_dsn, directory=root, statement_lock_timeout=0.3, lock_retries=0)
    migrated_db.rollback()
    message = str(caught.value)
    assert "products: AccessShareLock held by pid " in message
    assert "user postgres; its state and query are hidden from role storedb_owner" in message
    assert "None" not in message and "insufficient privilege" not in message


def _shipped() -> dict[str, str]:
    """The shipped SQL, so a database migrated with it is up to date with this directory."""
    from tests.helpers import SQL_DIR

    return {str(p.relative_to(SQL_DIR)): p.read_text() for p in SQL_DIR.glob("*/*.sql")}
