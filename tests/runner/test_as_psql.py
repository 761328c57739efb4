"""Running files exactly as psql would: separators, session isolation, history placement,
refusals, odd files and failures that must not hide each other (issue 10's reproductions)."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

import storedb
from storedb.runner._apply import closing
from storedb.runner._files import MigrationFile, checksum
from storedb.runner._statements import split
from tests.helpers import HISTORY, HISTORY_LOG, history

pytestmark = pytest.mark.matrix  # also on PostgreSQL 14-18: make test-matrix

Dir = Callable[..., Path]


def one(dsn: str, sql: str) -> object:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql).fetchone()
    return row[0] if row else None


def test_comment_before_semicolon_cannot_swallow_it(empty_dsn: str, sqldir: Dir) -> None:
    body = ("create table a (x int) -- note\n;\ncreate table b (y int);\n"
            "create table c (z int) /* ; */ -- why\n ; select 1 -- last, no semicolon")
    root = sqldir({"migrations/001_a.sql": body,
                   "migrations/002_b.sql": "-- storedb:no-transaction\n" + body.replace(
                       " a ", " a2 ").replace(" b ", " b2 ").replace(" c ", " c2 ")})
    result = storedb.migrate(empty_dsn, directory=root)
    assert [a.statements for a in result.applied] == [4, 4]
    assert one(empty_dsn, "select count(*) from pg_tables where schemaname = 'public'") == 6


def test_error_position_is_exact_after_tricky_separators(empty_dsn: str, sqldir: Dir) -> None:
    body = ("create table a (x int) -- note ;\n;\n\n/* c; */ select 'é;'\n  ;"
            "  select nope_col from a;\n")
    root = sqldir({"migrations/001_a.sql": body})
    with pytest.raises(storedb.MigrationFailed) as err:
        storedb.migrate(empty_dsn, directory=root)
    assert (err.value.line, err.value.column, err.value.statement_index) == (5, 13, 3)
    assert "migrations/001_a.sql:5:13" in str(err.value)


def test_settings_do_not_leak_into_the_next_file(empty_dsn: str, sqldir: Dir) -> None:
    root = sqldir({
        "migrations/001_a.sql": "create schema app;\nset search_path = app;\n"
                                "set client_encoding = 'LATIN1';\n"
                                "select pg_catalog.set_config('search_path', '', false);\n",
        "migrations/002_b.sql": "create table naïve (name text default 'crème');\n",
        "migrations/003_c.sql": "set synchronous_commit = off;\nset role none;\n",
    })
    storedb.migrate(empty_dsn, directory=root)
    assert one(empty_dsn, "select relnamespace::regnamespace::text from pg_class "
                          "where relname = 'naïve'") == "public"
    assert one(empty_dsn, "select pg_get_expr(adbin, adrelid) from pg_attrdef "
                          "where adrelid = 'public.naïve'::regclass") == \
        "'crème'::text"
    assert one(empty_dsn, f"select sql_text from {HISTORY} where filename ~ '002'") == \
        "create table naïve (name text default 'crème');\n"


def test_callers_connection_comes_back_with_its_settings(empty_dsn: str, sqldir: Dir) -> None:
    root = sqldir({"migrations/001_a.sql": "set search_path = pg_catalog;\nset work_mem = '77MB';\n"
                                           "create temp table scratch (x int);\n"})
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        conn.execute("set work_mem = '5MB'; set application_name = 'caller'")
        storedb.migrate(conn, directory=root)
        assert conn.execute("select current_setting('work_mem'), current_setting('search_path'),"
                            " current_setting('application_name')").fetchone() == (
            "5MB", '"$user", public', "caller")
        assert conn.execute("select to_regclass('pg_temp.scratch')").fetchone() == (None,)


def test_the_last_commit_of_a_run_is_synchronous() -> None:
    f = MigrationFile("migrations/001_a.sql", "migrations", 1, Path("x"), b"select 1;",
                      checksum(b"select 1;"))
    last = closing(f, record="insert ...", restore="reset all", durable=True)
    assert last.index("reset all") < last.index("synchronous_commit = on") < last.index("insert")
    assert "synchronous_commit = off" in closing(f, record="i", restore="r", durable=False)


def test_history_lives_in_its_own_schema(empty_dsn: str, sqldir: Dir) -> None:
    root = sqldir({"migrations/001_rails.sql":
                   "create table schema_migrations (version text primary key);\n"
                   "create table schema_migrations_log (x int);\n"})
    storedb.migrate(empty_dsn, directory=root)
    assert [name for name, _ in history(empty_dsn)] == ["migrations/001_rails.sql"]
    assert one(empty_dsn, "select count(*) from public.schema_migrations") == 0


_LEGACY_DDL = """
create table public.schema_migrations (
    filename text primary key, checksum text not null check (checksum ~ '^[0-9a-f]{64}$'),
    applied_at timestamptz not null default now(),
    applied_by text not null default current_user, duration_ms integer not null default 0,
    sql_text text not null,
    kind text not null default 'applied' check (kind in ('applied', 'baseline')),
    applied_checksum text not null, accepted_at timestamptz, accepted_by text,
    accepted_reason text);
create table public.schema_migrations_log (
    id bigint generated always as identity primary key, at timestamptz not null default now(),
    db_user text not null default current_user,
    event text not null
        check (event in ('migrate', 'accept', 'baseline', 'seed', 'environment')),
    filename text, checksum text, detail text);
"""


def test_a_history_in_public_is_moved_by_the_next_run(empty_dsn: str, sqldir: Dir) -> None:
    first = "create table a (x int);\n"
    root = sqldir({"migrations/001_a.sql": first})
    with psycopg.connect(empty_dsn, autocommit=True) as conn:  # what storedb 0.1 left behind
        conn.execute(_LEGACY_DDL)
        conn.execute(first)
        conn.execute("insert into public.schema_migrations (filename, checksum, sql_text, "
                     "applied_checksum) values (%s, %s, %s, %s)",
                     ("migrations/001_a.sql", checksum(first.encode()), first,
                      checksum(first.encode())))
        conn.execute("insert into public.schema_migrations_log (event, detail) "
                     "values ('migrate', 'old run')")
    assert storedb.check(empty_dsn, directory=root).ok  # read-only commands read it in place
    assert one(empty_dsn, "select to_regclass('storedb.schema_migrations')") is None
    result = storedb.migrate(empty_dsn, directory=root)  # up to date, yet the history moves
    assert result.up_to_date and history(empty_dsn)[0][0] == "migrations/001_a.sql"
    assert one(empty_dsn, "select to_regclass('public.schema_migrations')") is None
    assert one(empty_dsn, f"select string_agg(event || ':' || coalesce(detail, ''), ',' "
                          f"order by id) from {HISTORY_LOG}") == \
        "migrate:old run,upgrade:history moved from schema public to schema storedb"
    sqldir({"migrations/002_b.sql": "create table b (y int);\n"})
    assert [a.file for a in storedb.migrate(empty_dsn, directory=root).applied] == [
        "migrations/002_b.sql"]


def test_comment_only_file_is_a_recorded_no_op(empty_dsn: str, sqldir: Dir,
                                               caplog: pytest.LogCaptureFixture) -> None:
    root = sqldir({"migrations/001_placeholder.sql": "-- Replaced by 000096_other.sql\n"})
    with caplog.at_level(logging.WARNING, logger="storedb"):
        result = storedb.migrate(empty_dsn, directory=root)
    assert [(a.file, a.statements) for a in result.applied] == [
        ("migrations/001_placeholder.sql", 0)]
    assert "migrations/001_placeholder.sql holds only comments" in caplog.text
    assert storedb.check(empty_dsn, directory=root).ok


def test_crlf_inside_a_literal_is_kept(empty_dsn: str, sqldir: Dir) -> None:
    body = b"create table t (v text);\r\ninsert into t values ('a\r\nb');\r\n"
    root = sqldir({"migrations/001_a.sql": body})
    storedb.migrate(empty_dsn, directory=root)
    assert one(empty_dsn, "select v from t") == "a\r\nb"
    assert history(empty_dsn)[0][1] == checksum(body.replace(b"\r\n", b"\n"))


@pytest.mark.parametrize("body, where, what", [
    ("create table a (x int);\nprepare transaction 'x';\n", ":2:1", "two-phase commit"),
    ("select 1;\n  commit prepared 'x';\n", ":2:3", "two-phase commit"),
    ("rollback prepared 'x';\n", ":1:1", "two-phase commit"),
    ("select 1;\nset standard_conforming_strings = off;\nselect 'a\\b';\n", ":2:1",
     "standard_conforming_strings"),
    ("select set_config('standard_conforming_strings', 'off', false);\n", ":1:1",
     "standard_conforming_strings"),
    ("create table t (x int);\ncopy t from stdin;\n1\n2\n\\.\n", ":3:1", "inline COPY data"),
    ("create table t (x int);\ncopy t (x) from stdin;\n", ":2:1", "FROM STDIN"),
    ("select 1;\nselect 'a\x00b';\n", ":2:10", "NUL byte"),
])
def test_refused_before_anything_runs(body: str, where: str, what: str) -> None:
    f = MigrationFile("migrations/001_x.sql", "migrations", 1, Path("x"), body.encode(),
                      checksum(body.encode()))
    with pytest.raises(storedb.MigrationFileError) as err:
        split(f)
    assert f"migrations/001_x.sql{where}:" in str(err.value) and what in str(err.value)


def test_a_failing_log_insert_does_not_hide_the_files_error(
        empty_dsn: str, sqldir: Dir, caplog: pytest.LogCaptureFixture) -> None:
    root = sqldir({
        "migrations/001_a.sql": f"alter table {HISTORY_LOG} add constraint no_runs "
                                "check (event <> 'migrate') not valid;\n"
                                "set default_transaction_read_only = on;\n",
        "migrations/002_b.sql": "create table b (y int);\n",
        "migrations/003_c.sql": "select * from nope;\n",
    })
    storedb.migrate(empty_dsn, directory=root, target="migrations/001_a.sql")
    with caplog.at_level(logging.WARNING, logger="storedb"), \
            pytest.raises(storedb.MigrationFailed) as err:
        storedb.migrate(empty_dsn, directory=root)
    assert err.value.file == "migrations/003_c.sql" and err.value.sqlstate == "42P01"
    assert "could not log this run" in caplog.text
    assert [name for name, _ in history(empty_dsn)][-1] == "migrations/002_b.sql"


def test_lost_connection_says_so_and_what_may_be_lost(empty_dsn: str, sqldir: Dir) -> None:
    root = sqldir({"migrations/001_a.sql": "create table a (x int);\n",
                   "migrations/002_b.sql": "create table b (y int);\n"
                                           "select pg_terminate_backend(pg_backend_pid());\n"})
    with pytest.raises(storedb.ConnectError) as err:
        storedb.migrate(empty_dsn, directory=root)
    message = str(err.value)
    assert "lost the connection" in message and "migrations/002_b.sql" in message
    assert "not an error in the file" in message and "may be lost" in message
    assert "Run migrate again" in message and "Fix the file" not in message


def test_odd_files_are_named(empty_dsn: str, sqldir: Dir) -> None:
    root = sqldir({"migrations/001_a.sql": "select 1;\n"})
    os.symlink("002_loop.sql", root / "migrations" / "002_loop.sql")
    with pytest.raises(storedb.MigrationFileError, match=r"migrations/002_loop\.sql"):
        storedb.migrate(empty_dsn, directory=root)
    (root / "migrations" / "002_loop.sql").unlink()
    (root / "migrations" / "002_x.SQL").write_text("select 2;\n")
    with pytest.raises(storedb.MigrationFileError, match=r"migrations/002_x.SQL.*lower-case"):
        storedb.migrate(empty_dsn, directory=root)


def test_dry_run_script_is_what_runs_and_psql_accepts_it(empty_dsn: str, sqldir: Dir) -> None:
    root = sqldir({"migrations/001_base.sql": "select 1;\n"})
    storedb.migrate(empty_dsn, directory=root)  # the script expects the history to exist
    sqldir({"migrations/002_a.sql": "create table a (x int) -- note\n;\nselect 1 -- end",
            "migrations/003_b.sql": "-- storedb:no-transaction\n"
                                    "create index concurrently a_x on a (x) -- why\n;\n"})
    script = storedb.migrate(empty_dsn, directory=root, dry_run=True, sql=True).sql
    assert script is not None and "create table a (x int) -- note\n;\nselect 1 -- end\n;" in script
    env = {**os.environ, "PGOPTIONS": "", "PGCLIENTENCODING": "UTF8"}
    from storedb._local import find_bindir  # the server's own psql (make test-matrix)

    psql = subprocess.run([str(find_bindir() / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-d",
                           empty_dsn, "-c",
                           "select 1", "-f", "-"], input=script, text=True, capture_output=True,
                          env=env)
    assert psql.returncode == 0, psql.stderr
    assert storedb.check(empty_dsn, directory=root).ok
