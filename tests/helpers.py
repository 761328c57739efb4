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
SQL_DIR = ROOT / "infra" / "db"
PASSWORD_USER, PASSWORD = "pw_user", "Right-Secret-42"  # the one role that needs a password
#: The oldest server the shipped SQL runs on: 002's ON DELETE SET NULL (product_id) is 15 syntax.
SHIPPED_SCHEMA_MIN = 15
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
    result = CliRunner().invoke(main, list(args), env={**cleared, **(env or {})})
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
