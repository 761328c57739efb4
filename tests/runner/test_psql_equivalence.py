"""storedb against psql, file for file: the same schema, the same data, the same failing statement.

Every history is applied twice into fresh databases: by storedb, and by
``psql -X -v ON_ERROR_STOP=1 --single-transaction -f FILE``, one psql (one
fresh session) per file, stopping at the first file psql fails.  The two
databases must then dump identically (``pg_dump``, storedb's own schema
left out), and when psql fails, storedb must fail in the same file at the
same statement.  Histories come from hypothesis (the shapes that break
splitters and runners) and from the hand-written corpus in tests/corpus/.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import storedb
from storedb.runner._files import load_file
from storedb.runner._statements import Lines, _skip_blank, split
from tests.conftest import Server

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
ROLE = "eq_other_role"
_names = itertools.count(1)


@dataclass(frozen=True)
class Outcome:
    """How a history ended: the dump, and where it failed (file, line of the failing ';')."""

    dump: str
    failed: tuple[str, int] | None


@pytest.fixture(scope="module")
def server(pg_server: Server) -> Server:
    with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as conn, \
            contextlib.suppress(psycopg.errors.DuplicateObject):
        conn.execute(f"create role {ROLE} nologin")
    return pg_server


@contextlib.contextmanager
def database(server: Server) -> Iterator[str]:
    name = f"eq_{os.getpid()}_{next(_names)}"
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"create database {name} template template0 encoding 'UTF8'")
    try:
        yield name
    finally:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"drop database {name} with (force)")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return {**env, "PGCLIENTENCODING": "UTF8", "PGOPTIONS": ""}


def dump(server: Server, db: str) -> str:
    out = subprocess.run(["pg_dump", "-h", server.host, "-p", str(server.port), "-U", "postgres",
                          "-N", "storedb", "--no-sync", db], capture_output=True, text=True,
                         env=_env(), check=True).stdout
    out = "\n".join(line for line in out.splitlines()
                    if not line.startswith(("\\restrict", "\\unrestrict")))
    # now() differs between the two runs; timestamps written in the files do not
    with psycopg.connect(server.dsn(db)) as conn:
        today = conn.execute("select current_date::text").fetchone()
    return re.sub(rf"{today[0] if today else '-'} [0-9:.]+\+00", "<now>", out)


def with_psql(server: Server, root: Path) -> Outcome:
    files = sorted((root / "migrations").glob("*.sql"))
    with database(server) as db:
        failed = None
        for path in files:
            proc = subprocess.run(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-h",
                 server.host, "-p", str(server.port), "-U", "postgres", "-d", db, "-f",
                 str(path)], capture_output=True, text=True, env=_env())
            if proc.returncode != 0:
                match = re.search(rf"psql:{re.escape(str(path))}:(\d+): ERROR", proc.stderr)
                assert match, proc.stderr
                failed = (f"migrations/{path.name}", int(match.group(1)))
                break
        return Outcome(dump(server, db), failed)


def with_storedb(server: Server, root: Path) -> Outcome:
    with database(server) as db:
        failed = None
        try:
            storedb.migrate(server.dsn(db), directory=root)
        except storedb.MigrationFailed as exc:
            f = load_file(exc.file, "migrations", 0, str(root / exc.file))
            stmt = split(f)[exc.statement_index - 1]
            end = _skip_blank(f.text, stmt.end)  # where psql sends it: at its ';'
            failed = (exc.file, Lines(f.text).position(min(end, len(f.text) - 1))[0])
        return Outcome(dump(server, db), failed)


def assert_same(server: Server, root: Path) -> None:
    theirs, ours = with_psql(server, root), with_storedb(server, root)
    if os.environ.get("STOREDB_EQ_VERBOSE"):
        print(root.name, "failed:", theirs.failed, ours.failed)
    assert ours.failed == theirs.failed
    assert ours.dump == theirs.dump


# --- the shapes that break splitters and runners -----------------------------------------

def _shapes(n: int) -> dict[str, str]:
    """Statement shapes, each creating objects of its own (``n`` keeps names apart)."""
    return {
        "comment_before_semicolon": f"create table t{n} (x int) -- note; not the end\n;",
        "semicolon_alone": f"create table t{n} (x int)\n;",
        "nested_block_comment": f"create table /* a /* b; -- */ c; */ t{n} (x int);",
        "dollar_tags": f"create function f{n}() returns text language sql as $q{n}$ "
                       f"select 'a;$$b' $q{n}$;",
        "escape_string": f"create table t{n} (v text default E'it\\'s; ok');",
        "doubled_quote": f"create table t{n} (v text default 'it''s; -- ok');",
        "quoted_identifier": f'create table "we;ird--{n}" ("x;" int);',
        "begin_atomic": f"create function g{n}() returns int language sql\nbegin atomic\n"
                        "  select 1;\n  select 2;\nend;",
        "rule": f"create table r{n} (x int);\ncreate table r{n}_log (x int);\n"
                f"create rule r{n}_rule as on insert to r{n} do also (\n"
                f"  insert into r{n}_log values (new.x);\n"
                f"  insert into r{n}_log values (-new.x)\n);\n"
                f"insert into r{n} values ({n});",
        "do_block": f"do $$ begin execute 'create table d{n} (x int)'; perform 1; end $$;",
        "non_ascii": f"create table naïve_{n} (crème text default 'brûlée; ü');\n"
                     f"insert into naïve_{n} default values;",
        "tabs": f"create\ttable\tt{n}\t(x\tint);",
        "data": f"create table v{n} (x int, s text);\n"
                f"insert into v{n} values ({n}, 'row; {n}'), ({n + 1}, $s$dollar;$s$);",
    }


#: Session settings a file may leave behind; each later file shows whether one leaked.
SETS = [
    "set search_path = pg_catalog;",
    "select pg_catalog.set_config('search_path', '', false);",
    "set client_encoding = 'LATIN1';",
    f"set role {ROLE};",
    "set datestyle = 'SQL, DMY';",
    "set default_transaction_read_only = on;",
    "create temp table scratch (x int);",
]


@st.composite
def histories(draw: st.DrawFn) -> list[bytes]:
    """1-4 files as bytes: shapes, a statement that fails now and then, session settings."""
    files = []
    n = 0
    for _ in range(draw(st.integers(1, 4))):
        parts = []
        for _ in range(draw(st.integers(1, 4))):
            n += 1
            parts.append(_shapes(n)[draw(st.sampled_from(sorted(_shapes(0))))])
        if draw(st.booleans()):  # something that shows the previous files' settings
            n += 1
            parts.append(f"create table shown_{n} (d text default '01/02/2020'::date::text, "
                         f"s text default 'ä');\ninsert into shown_{n} default values;")
        if draw(st.integers(0, 3)) == 0:
            parts.insert(draw(st.integers(0, len(parts))), "select 1 / 0;")
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(SETS)))
        text = "\n".join(parts)
        if draw(st.booleans()) and not text.endswith(("end;", ");")):
            text = text[:-1]  # the last statement without its ';'
        if draw(st.integers(0, 4)) == 0:
            text = "-- placeholder: replaced by a later file\n"
        data = text.encode()
        if draw(st.integers(0, 3)) == 0:
            data = data.replace(b"\n", b"\r\n")
        if draw(st.integers(0, 4)) == 0:
            data = b"\xef\xbb\xbf" + data
        files.append(b"-- generated\n" + data if data[:3] != b"\xef\xbb\xbf" else data)
    return files


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=histories())
def test_generated_histories_run_as_psql_runs_them(server: Server, history: list[bytes]
                                                    ) -> None:
    root = Path(tempfile.mkdtemp(prefix="storedb-eq-"))
    try:
        (root / "migrations").mkdir()
        for i, data in enumerate(history, start=1):
            (root / "migrations" / f"{i:03d}_generated.sql").write_bytes(data)
        assert_same(server, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("project", sorted(p.name for p in CORPUS.iterdir() if p.is_dir()))
def test_corpus_runs_as_psql_runs_it(server: Server, project: str) -> None:
    assert_same(server, CORPUS / project)


def test_corpus_is_large_enough() -> None:
    assert len(list(CORPUS.glob("*/migrations/*.sql"))) >= 40
