"""What several test files share: paths, role names, running the CLI, reading a database.

Fixtures live in ``conftest.py``; plain functions and constants live here, so
test files import them from ``tests.helpers`` rather than from conftest.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

# the non-superuser owner and the application's login role that storedb's pytest plugin makes
from storedb.testing import APP_USER as APP_USER
from storedb.testing import OWNER as OWNER

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_SQL_DIR = ROOT / "infra" / "db"
PASSWORD_USER, PASSWORD = "pw_user", "Right-Secret-42"  # the one role that needs a password
#: The oldest server the shipped SQL runs on: 002's ON DELETE SET NULL (product_id) is 15 syntax.
SHIPPED_SCHEMA_MIN = 15
#: That one PostgreSQL 15 clause, and the stand-in the tests use on 14 (see _sql_dir).
PG15_ONLY, PG14_STAND_IN = "on delete set null (product_id)", "on delete no action"


def server_major() -> int | None:
    """The major version of the server the tests will start ($STOREDB_PG_BINDIR or found)."""
    import re
    import subprocess

    import storedb
    from storedb import _local as local

    try:
        postgres = local.find_bindir() / "postgres"
    except storedb.Error:
        return None
    out = subprocess.run([str(postgres), "--version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def _sql_dir() -> Path:
    """The SQL root the tests migrate: infra/db, or on PostgreSQL 14 a copy spelt for 14.

    The shipped SQL stays 15+ (applied files are never edited), but everything else in it --
    row level security, grants, definer functions, the DAO's functions -- runs on 14, and the
    tenant isolation suite, ``check --tenancy`` and the DAO tests should prove that there.
    The copy changes only what a hard-deleted product does to its order lines (15: clear
    product_id; the copy: refuse the delete); tests that depend on that, or on the files
    being the shipped ones, carry the ``shipped_schema`` marker and are skipped on 14.
    """
    import atexit
    import shutil
    import tempfile

    if SERVER_MAJOR is None or SERVER_MAJOR >= SHIPPED_SCHEMA_MIN:
        return SHIPPED_SQL_DIR
    copy = Path(tempfile.mkdtemp(prefix="storedb-pg14-sql-")) / "db"
    atexit.register(shutil.rmtree, copy.parent, ignore_errors=True)
    shutil.copytree(SHIPPED_SQL_DIR, copy)
    migration = copy / "migrations" / "002_add_orders_table.sql"
    text = migration.read_text()
    assert PG15_ONLY in text, "002 no longer holds the clause tests/helpers.py rewrites for 14"
    migration.write_text(text.replace(PG15_ONLY, PG14_STAND_IN))
    return copy


#: Asked once per test process (it runs ``postgres --version``).
SERVER_MAJOR = server_major()
SQL_DIR = _sql_dir()
#: What a command run by a test sees as its default SQL root (nothing: ./infra/db, except on 14).
_SQL_ENV = {} if SQL_DIR == SHIPPED_SQL_DIR else {"STOREDB_DIR": str(SQL_DIR)}
HISTORY, HISTORY_LOG = "storedb.schema_migrations", "storedb.schema_migrations_log"


def dsn_of(conn: psycopg.Connection[object], user: str | None = None) -> str:
    info = conn.info
    return f"host={info.host} port={info.port} user={user or info.user} dbname={info.dbname}"


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120) -> CliResult:
    """Run ``python -m storedb`` as a user would, in a process of its own."""
    import os
    import subprocess

    full_env = {k: v for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "STOREDB_DIR") and not k.startswith("PG")}
    full_env.update(_SQL_ENV)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "storedb", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def invoke(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """Run the command line in this process (click's CliRunner): the same output and exit
    code as ``run_cli`` at a fraction of the cost.  Use ``run_cli`` only for what needs a real
    process: signals, exit codes set by the interpreter, an installed wheel.
    """
    import logging
    import os

    from click.testing import CliRunner

    from storedb.cli import main

    log = logging.getLogger("storedb")
    for handler in list(log.handlers):  # bound to an earlier run's stderr: start afresh
        log.removeHandler(handler)
    cleared: dict[str, str | None] = {k: None for k in os.environ
                                      if k in ("DATABASE_URL", "STOREDB_DIR")
                                      or k.startswith("PG")}
    result = CliRunner().invoke(main, list(args), env={**cleared, **_SQL_ENV, **(env or {})})
    for handler in list(log.handlers):
        log.removeHandler(handler)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def tables(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute(
            "select tablename from pg_tables where schemaname = 'public'").fetchall()}


def history(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        if conn.execute(f"select to_regclass('{HISTORY}')").fetchone() == (None,):
            return []
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            f"select filename, checksum from {HISTORY} order by filename").fetchall()]


def in_store(conn: psycopg.Connection[object], store_id: uuid.UUID, sql: str,
             params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Runs one statement in a transaction scoped to ``store_id``; returns its rows."""
    with conn.transaction():
        conn.execute("select set_current_store_id(%s)", (store_id,))
        cur = conn.execute(sql, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []
