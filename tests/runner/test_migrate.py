"""The runner against real PostgreSQL: apply, record, refuse, stay atomic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

import storedb
from tests.helpers import HISTORY, HISTORY_LOG, SQL_DIR, history, tables

pytestmark = pytest.mark.matrix  # also on PostgreSQL 14-18: make test-matrix

BASE = {
    "schema/00_base.sql": "-- base\ncreate table items (id int primary key, name text);\n",
    "migrations/001_seed_items.sql": "insert into items values (1, 'one');\n",
}


def count(dsn: str, sql: str) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None


def test_applies_in_order_and_records_history(empty_dsn: str, sqldir: Callable[..., Path]
                                              ) -> None:
    root = sqldir(BASE)
    result = storedb.migrate(empty_dsn, directory=root)
    assert [a.file for a in result.applied] == list(BASE)
    with psycopg.connect(empty_dsn) as conn:
        rows = conn.execute(f"select filename, checksum, applied_at, applied_by, duration_ms,"
                            f" sql_text from {HISTORY} order by applied_at").fetchall()
    assert [r[0] for r in rows] == list(BASE)
    assert rows[0][1] == storedb.runner._files.checksum(BASE["schema/00_base.sql"].encode())
    assert rows[0][3] == "postgres" and rows[0][4] >= 0
    assert rows[1][5] == BASE["migrations/001_seed_items.sql"]


def test_second_run_executes_nothing(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)
    storedb.migrate(empty_dsn, directory=root)
    again = storedb.migrate(empty_dsn, directory=root)
    assert again.up_to_date and again.applied == ()
    assert count(empty_dsn, "select count(*) from items") == 1  # the insert did not run twice


def test_failing_file_leaves_no_trace_and_earlier_files_stay(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir({**BASE, "migrations/002_broken.sql":
                   "create table half (id int);\ninsert into half values (1);\n"
                   "insert into items values (1, 'duplicate');\n"})
    with pytest.raises(storedb.MigrationFailed) as err:
        storedb.migrate(empty_dsn, directory=root)
    e = err.value
    assert (e.file, e.line, e.statement_index, e.statement_count) == (
        "migrations/002_broken.sql", 3, 3, 3)
    assert e.sqlstate == "23505" and "duplicate key" in e.pg_message
    assert "Nothing of migrations/002_broken.sql was kept" in str(e)
    assert "half" not in tables(empty_dsn)
    assert [h[0] for h in history(empty_dsn)] == sorted(BASE)


def test_edited_applied_file_is_refused_before_anything_runs(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)
    storedb.migrate(empty_dsn, directory=root)
    sqldir({"schema/00_base.sql": BASE["schema/00_base.sql"] + "-- edited\n",
            "migrations/002_new.sql": "create table newer (id int);\n"})
    with pytest.raises(storedb.DriftError) as err:
        storedb.migrate(empty_dsn, directory=root)
    assert "schema/00_base.sql: changed since it was applied" in str(err.value)
    assert "newer" not in tables(empty_dsn)


def test_removed_applied_file_is_refused(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)
    storedb.migrate(empty_dsn, directory=root)
    (root / "migrations" / "001_seed_items.sql").unlink()
    with pytest.raises(storedb.DriftError, match="no longer on disk"):
        storedb.migrate(empty_dsn, directory=root)


def test_crlf_and_bom_checkout_is_not_drift(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)
    storedb.migrate(empty_dsn, directory=root)
    windows = b"\xef\xbb\xbf" + BASE["schema/00_base.sql"].replace("\n", "\r\n").encode()
    sqldir({"schema/00_base.sql": windows})
    assert storedb.check(empty_dsn, directory=root).ok
    assert storedb.migrate(empty_dsn, directory=root).up_to_date


def test_out_of_order_refused_then_allowed(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir({"migrations/001_a.sql": "create table a (id int);\n",
                   "migrations/003_c.sql": "create table c (id int);\n"})
    storedb.migrate(empty_dsn, directory=root)
    sqldir({"migrations/002_b.sql": "create table b (id int);\n"})
    with pytest.raises(storedb.DriftError, match="sorts before files already applied"):
        storedb.migrate(empty_dsn, directory=root)
    assert "b" not in tables(empty_dsn)
    result = storedb.migrate(empty_dsn, directory=root, out_of_order=True)
    assert [a.file for a in result.applied] == ["migrations/002_b.sql"]


def test_status_and_check(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)
    before = storedb.status(empty_dsn, directory=root)
    assert [e.state for e in before.entries] == ["pending", "pending"]
    check = storedb.check(empty_dsn, directory=root)
    assert not check.ok and len(check.problems) == 2
    storedb.migrate(empty_dsn, directory=root, target="schema/00_base.sql")
    states = {e.file: e.state for e in storedb.status(empty_dsn, directory=root).entries}
    assert states == {"schema/00_base.sql": "applied", "migrations/001_seed_items.sql": "pending"}
    storedb.migrate(empty_dsn, directory=root)
    assert storedb.check(empty_dsn, directory=root).ok
    payload = storedb.status(empty_dsn, directory=root).to_json()
    assert payload["migrations"][0]["state"] == "applied"
    assert payload["migrations"][0]["duration_ms"] is not None


def test_dry_run_applies_nothing_and_can_show_sql(empty_dsn: str, sqldir: Callable[..., Path]
                                                  ) -> None:
    root = sqldir(BASE)
    result = storedb.migrate(empty_dsn, directory=root, dry_run=True, sql=True)
    assert result.pending == tuple(BASE)
    assert result.sql and "create table items" in result.sql and "begin;" in result.sql
    assert history(empty_dsn) == [] and "items" not in tables(empty_dsn)


def test_idle_connection_is_used_and_given_back(empty_dsn: str, sqldir: Callable[..., Path]
                                                ) -> None:
    root = sqldir(BASE)
    with psycopg.connect(empty_dsn) as conn:
        assert conn.autocommit is False
        storedb.migrate(conn, directory=root)
        assert conn.autocommit is False
        assert conn.execute("select count(*) from items").fetchone() == (1,)


def test_connection_inside_a_transaction_is_not_committed(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)
    with psycopg.connect(empty_dsn) as conn:
        conn.execute("create table app_work (id int)")  # the app's own open transaction
        storedb.migrate(conn, directory=root)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.rollback()
    assert "app_work" not in tables(empty_dsn)  # storedb never committed the app's work
    assert "items" in tables(empty_dsn)


class CountingConnection(psycopg.Connection[Any]):
    """Counts the queries sent through psycopg (every round trip the runner makes)."""

    queries = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        CountingConnection.queries += 1
        return super().execute(*args, **kwargs)


def test_up_to_date_check_is_one_query(owner_dsn: str) -> None:
    with CountingConnection.connect(owner_dsn) as conn:
        CountingConnection.queries = 0
        result = storedb.migrate(conn, directory=SQL_DIR)
        assert result.up_to_date
        assert CountingConnection.queries == 1


def test_up_to_date_start_up_from_a_dsn_is_one_query(owner_dsn: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[CountingConnection] = []

    def counting_connect(*args: Any, **kwargs: Any) -> CountingConnection:
        conn = CountingConnection.connect(*args, **kwargs)
        opened.append(conn)
        return conn

    monkeypatch.setattr(psycopg, "connect", counting_connect)
    CountingConnection.queries = 0
    assert storedb.migrate(owner_dsn, directory=SQL_DIR
                           ).up_to_date
    assert len(opened) == 1 and CountingConnection.queries == 1


def test_history_edited_by_hand_is_noticed(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir({"migrations/001_a.sql": "create table if not exists a (id int);\n"})
    storedb.migrate(empty_dsn, directory=root)
    with psycopg.connect(empty_dsn) as conn:
        conn.execute("delete from storedb.schema_migrations")
    result = storedb.migrate(empty_dsn, directory=root)  # the fast path cannot go stale
    assert [a.file for a in result.applied] == ["migrations/001_a.sql"]


def test_migrate_many_from_the_library(empty_dsn: str, sqldir: Callable[..., Path],
                                       tmp_path: Path) -> None:
    root = sqldir(BASE)
    bad = f"host={tmp_path} port=5997 user=postgres dbname=none"
    seen: list[str] = []
    result = storedb.migrate_many([empty_dsn, bad], jobs=2, directory=root,
                                  on_done=lambda item: seen.append(item.dsn))
    assert not result.ok
    assert [i.ok for i in result.items] == [True, False]  # in the order given
    assert isinstance(result.items[1].error, storedb.ConnectError)
    assert sorted(seen) == sorted([empty_dsn, bad])
    assert len(result.items[0].result.applied) == 2  # type: ignore[union-attr]


def test_app_connection_with_dict_rows_is_served_and_restored(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    from psycopg.rows import dict_row

    root = sqldir(BASE)
    with psycopg.connect(empty_dsn, row_factory=dict_row) as conn:
        assert len(storedb.migrate(conn, directory=root).applied) == 2
        assert storedb.status(conn, directory=root).entries[0].state == "applied"
        assert conn.execute("select 1 as one").fetchone() == {"one": 1}


def test_dry_run_sql_is_exactly_what_runs(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir({**BASE, "migrations/002_idx.sql":
                   "-- storedb:no-transaction\ncreate index concurrently items_name_idx "
                   "on items (name);\n"})
    import subprocess

    from storedb._local import find_bindir

    script = storedb.migrate(empty_dsn, directory=root, dry_run=True, sql=True).sql
    assert script is not None
    storedb.migrate(empty_dsn, directory=root, target="schema/00_base.sql")  # the history table
    script = storedb.migrate(empty_dsn, directory=root, dry_run=True, sql=True).sql
    assert script and "schema/00_base.sql:" not in script
    psql = subprocess.run([str(find_bindir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                           "-d", empty_dsn], input=script, text=True, capture_output=True)
    assert psql.returncode == 0, psql.stderr  # a DBA can run the printed SQL as it is
    assert storedb.check(empty_dsn, directory=root).ok  # and the history then matches the files


def test_another_tools_schema_migrations_table_is_left_alone(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        conn.execute("create table schema_migrations (version varchar primary key)")
        conn.execute("insert into schema_migrations values ('20240101000000')")
    root = sqldir({**BASE, "migrations/002_rails.sql":
                   "alter table schema_migrations add column data_version int;\n"})
    assert len(storedb.migrate(empty_dsn, directory=root).applied) == 3
    assert storedb.check(empty_dsn, directory=root).ok
    with psycopg.connect(empty_dsn) as conn:
        assert conn.execute("select * from public.schema_migrations").fetchall() == [
            ("20240101000000", None)]


def test_role_without_rights_gets_advice_not_a_traceback(app_dsn: str,
                                                         sqldir: Callable[..., Path]) -> None:
    with pytest.raises(storedb.HistoryError, match="permission denied") as err:
        storedb.status(app_dsn, directory=sqldir(BASE))
    assert "grant select on storedb.schema_migrations" in str(err.value)


def test_wrong_dir_is_not_mistaken_for_up_to_date(empty_dsn: str, tmp_path: Path) -> None:
    with pytest.raises(storedb.UsageError, match="neither schema/ nor migrations/"):
        storedb.migrate(empty_dsn, directory=tmp_path)
    assert history(empty_dsn) == []


def test_failed_run_still_logs_what_it_applied(empty_dsn: str, sqldir: Callable[..., Path]
                                               ) -> None:
    root = sqldir({**BASE, "migrations/002_bad.sql": "select * from nope;\n"})
    with pytest.raises(storedb.MigrationFailed):
        storedb.migrate(empty_dsn, directory=root)
    assert count(empty_dsn, f"select detail from {HISTORY_LOG} where event = 'migrate'"
                 ) == "applied 2 file(s), then failed"


def test_lock_held_by_the_callers_own_transaction_is_named(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)
    storedb.migrate(empty_dsn, directory=root)
    sqldir({"migrations/002_alter.sql": "alter table items add column price int;\n"})
    with psycopg.connect(empty_dsn) as conn:
        conn.execute("select * from items")  # the app's open transaction locks items
        with pytest.raises(storedb.MigrationFailed) as err:
            storedb.migrate(conn, directory=root, statement_lock_timeout=0.2, lock_retries=0)
        conn.rollback()
    assert "the connection you passed to storedb" in str(err.value)
