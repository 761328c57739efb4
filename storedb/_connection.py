"""Reaching the database: which DSN, waiting for the server, and hiding passwords.

The library accepts a conninfo string/URL, an open psycopg connection in
whatever state the application left it, or a psycopg_pool ConnectionPool;
:func:`session` hands the runner an autocommit connection in every case and
puts things back afterwards.  URLs written for SQLAlchemy
(``postgresql+psycopg://``) or Heroku (``postgres://``) are accepted too.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Union

from ._secrets import RedactingFilter, redact, remember, url_problem
from .errors import ConnectError

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

Database = Union[str, "psycopg.Connection[Any]", "psycopg_pool.ConnectionPool[Any]"]

log = logging.getLogger("storedb")

#: The backend of a connection the caller passed while inside its own transaction: its
#: locks can block the sibling connection storedb works on, and errors should say so.
caller_pid: contextvars.ContextVar[int | None] = contextvars.ContextVar("caller_pid",
                                                                       default=None)

#: libpq variables that name a server: when one is set, libpq's defaults are meant.
LIBPQ_TARGET_VARS = ("PGHOST", "PGDATABASE", "PGSERVICE", "PGHOSTADDR", "PGPORT")

#: The PostgreSQL major versions storedb supports and tests (``make test-matrix``).
SUPPORTED_MAJORS = (14, 18)

#: ``postgresql+psycopg://`` (SQLAlchemy's dialect+driver form) and ``postgres://``.
_URL_SCHEME = re.compile(r"^\s*postgres(?:ql)?(?:\+\w+)?://", re.IGNORECASE)


def normalise_dsn(dsn: str) -> str:
    """The DSN as libpq wants it: a SQLAlchemy or Heroku style scheme becomes postgresql://."""
    return _URL_SCHEME.sub("postgresql://", dsn, count=1)


log.addFilter(RedactingFilter())  # no password reaches a log line, whoever logs it


def env_dsn() -> str | None:
    """The DSN the environment asks for: DATABASE_URL, or '' when PG* variables name a server."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    if any(os.environ.get(v) for v in LIBPQ_TARGET_VARS):
        return ""  # an empty conninfo lets libpq read PGHOST, PGDATABASE, ...
    return None


def connect(dsn: str, *, wait: float = 0.0, application_name: str = "storedb"
            ) -> psycopg.Connection[Any]:
    """Open an autocommit connection, retrying for up to ``wait`` seconds.

    Containers start out of order, so a server that is still starting (or not
    yet reachable) is retried; a wrong password, database or DSN is not, since
    waiting cannot fix it.
    """
    import psycopg

    remember(dsn)
    problem = url_problem(dsn)
    if problem:
        raise ConnectError(f"cannot connect to {redact(dsn)}: {problem}.")
    deadline = time.monotonic() + wait
    delay = 0.1
    while True:
        try:
            conn: psycopg.Connection[Any] = psycopg.connect(
                normalise_dsn(dsn), autocommit=True, application_name=application_name,
                connect_timeout=max(2, min(10, int(wait) or 10)))
        except (psycopg.Error, ValueError) as exc:
            retry = isinstance(exc, psycopg.OperationalError)
            message = redact(_one_line(str(exc))) if retry else \
                f"the DSN is malformed ({type(exc).__name__})"
            fatal = not retry or any(s in message for s in (
                "password authentication failed", "does not exist", "no password supplied",
                "authentication failed", "permission denied", "invalid"))
            if fatal or time.monotonic() >= deadline:
                hint = ("write it as postgresql://user:password@host:port/dbname or as "
                        "'host=... dbname=...'; percent-encode special characters" if not retry
                        else "check the user, password, database name and options in --dsn / "
                        "DATABASE_URL" if fatal else
                        "is the server running and reachable? Raise --wait if it is still "
                        "starting" if wait else
                        "is the server running and reachable? Use --wait SECONDS to wait for a "
                        "server that is still starting")
                waited = f" after waiting {wait:g}s" if wait and not fatal else ""
                target = redact(dsn) if retry else "the given DSN"
                raise ConnectError(f"cannot connect to {target or 'the PG* default'}"
                                   f"{waited}: {message}\nHint: {hint}.") from None
            log.info("server not ready (%s); retrying", message)
            time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)
            continue
        try:
            require_supported(conn.info.server_version)
        except ConnectError:
            conn.close()
            raise
        return conn


def require_supported(server_version: int) -> None:
    """Refuse a server older than PostgreSQL 14 before touching it.

    The runner relies on 14's ``client_connection_check_interval`` (a killed
    runner's lock ends with it) and is tested on 14-18 only; on an older
    server, failures would surface later and in stranger ways.  Newer releases
    are let through with a warning: PostgreSQL rarely breaks what storedb uses.
    """
    low, high = SUPPORTED_MAJORS
    major = server_version // 10000
    if major < low:
        raise ConnectError(
            f"the server runs PostgreSQL {readable_version(server_version)}; storedb supports "
            f"PostgreSQL {low} to {high}. Upgrade the server (pg_upgrade) or use a "
            f"PostgreSQL {low}+ server.")
    if major > high:
        log.warning("the server runs PostgreSQL %s; storedb is tested on %d to %d",
                    readable_version(server_version), low, high)


def readable_version(server_version: int) -> str:
    """libpq's integer version as people write it: 140022 -> 14.22, 90624 -> 9.6.24."""
    if server_version >= 100000:
        return f"{server_version // 10000}.{server_version % 10000}"
    return f"{server_version // 10000}.{server_version // 100 % 100}.{server_version % 100}"


CLOSED = "the connection passed to storedb is closed; pass an open connection or a DSN."


@contextlib.contextmanager
def session(db: Database, *, wait: float = 0.0) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection for the runner, whatever ``db`` is.

    A string is connected (and closed afterwards).  An idle connection is
    borrowed in autocommit with plain tuple rows, and given back as it was
    (rolled back first if something left it inside a transaction).  A
    connection inside a transaction is left untouched: we open a sibling
    connection with the same parameters, because the runner must commit its
    own work without ever committing the application's.  PostgreSQL errors
    that escape the runner become :class:`storedb.Error` with a hint.  A pool
    lends one of its connections for the block.
    """
    if not isinstance(db, str) and not hasattr(db, "pgconn"):  # a pool: borrow a connection
        with db.connection() as pooled, session(pooled, wait=wait) as conn:
            yield conn
        return
    yield from _session(db, wait)  # type: ignore[arg-type]  # a pool was handled above


def _session(db: str | psycopg.Connection[Any], wait: float
             ) -> Iterator[psycopg.Connection[Any]]:
    import psycopg
    from psycopg.pq import TransactionStatus
    from psycopg.rows import tuple_row

    with _explained():
        if isinstance(db, str):
            conn = connect(db, wait=wait)
            try:
                yield conn
            finally:
                conn.close()
            return
        if db.closed:
            raise ConnectError(CLOSED)
        require_supported(db.info.server_version)
        if db.info.transaction_status == TransactionStatus.IDLE:
            saved_autocommit, saved_rows = db.autocommit, db.row_factory
            db.autocommit, db.row_factory = True, tuple_row
            try:
                yield db
            finally:
                if not db.closed:
                    if db.info.transaction_status != TransactionStatus.IDLE:
                        with contextlib.suppress(psycopg.Error):
                            db.execute("rollback")
                    db.row_factory = saved_rows
                    if db.info.transaction_status == TransactionStatus.IDLE:
                        db.autocommit = saved_autocommit
            return
        sibling = connect(conninfo_of(db), wait=wait)
        token = caller_pid.set(db.info.backend_pid)
        try:
            yield sibling
        finally:
            caller_pid.reset(token)
            sibling.close()


@contextlib.contextmanager
def _explained() -> Iterator[None]:
    """Turn a PostgreSQL error outside a migration file into advice (no traceback)."""
    import psycopg

    from .errors import Error, HistoryError

    try:
        yield
    except Error:
        raise
    except psycopg.errors.InsufficientPrivilege as exc:
        raise HistoryError(
            f"permission denied: {exc.diag.message_primary}. Run migrations as the role that "
            "owns the schema; storedb keeps its history in the schema 'storedb', which the "
            "first run creates (that needs CREATE on the database, or a superuser running "
            "'create schema storedb authorization <role>' once). A role that only checks "
            "needs: grant usage on schema storedb to <role>; grant select on "
            "storedb.schema_migrations to <role>.") from exc
    except psycopg.OperationalError as exc:
        raise ConnectError(f"lost the connection to the database: "
                           f"{redact(_one_line(str(exc)))}. Run the command again; "
                           "what was committed is recorded in the history.") from exc
    except psycopg.Error as exc:
        raise Error(f"database error: {redact(_one_line(str(exc)))}") from exc


def usable(conn: psycopg.Connection[Any]) -> bool:
    """Whether a connection can still run a statement: neither closed nor broken."""
    return not conn.closed and not conn.broken


def _one_line(text: str) -> str:
    """libpq's multi-line messages on one line, their sentences kept apart."""
    return "; ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def conninfo_of(conn: psycopg.Connection[Any]) -> str:
    """The full conninfo of an open connection, password included (never logged)."""
    from psycopg.conninfo import make_conninfo

    params = {o.keyword.decode(): o.val.decode() for o in conn.pgconn.info
              if o.val is not None and o.keyword.decode() not in ("replication",)}
    conninfo = make_conninfo(**params)
    remember(conninfo)  # a password from a passfile or service file is hidden too
    return conninfo


def resolve(db: Database | None) -> Database:
    """The database to use: the argument, else the environment; never a server of our own.

    A library that started a throwaway database when ``DATABASE_URL`` happened
    to be unset would let an application migrate and serve an empty database
    in production; only the CLI falls back to the local cluster, and says so.
    """
    if db is not None:
        return db
    dsn = env_dsn()
    if dsn is not None:
        return dsn
    raise ConnectError(
        "no database given: pass a DSN or a connection (e.g. storedb.migrate(dsn)), or set "
        "DATABASE_URL (or libpq's PGHOST / PGDATABASE / PGSERVICE variables). The library never "
        "starts a server by itself; for a local development database run "
        "'storedb local url' and use the URL it prints.")
