"""Running one file against the database, atomically with its history row.

What runs is the file's own text: an ordinary file travels as one
simple-protocol message (``begin``, the run's settings, then the file exactly
as written, separators and comments included), so nothing can swallow a
``;`` and the server's error positions are positions in the file.  The
per-statement results name the statement that failed.  A second message
puts the session back as the run found it (see ``_session``), records the
history row and commits.  A ``no-transaction`` file runs statement by
statement, each over the simple protocol as psql sends it, and is recorded
only once every statement has succeeded.

The messages are built by pure functions (:func:`opening`, :func:`closing`)
and the results read by :func:`first_error`, so an asynchronous runner can
share them; only :func:`apply_file` talks to the server (through ``_wire``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._connection import usable
from ..errors import MigrationFailed
from . import _wire as wire
from ._failure import (
    ServerError,
    describe,
    failing_statement,
    lock_holders,
    lost,
    older_grammar,
)
from ._files import MigrationFile
from ._statements import Statement

if TYPE_CHECKING:
    import psycopg
    from psycopg.pq.abc import PGresult

log = logging.getLogger("storedb")

#: Called with the number of the file's statements done so far, as they finish.
OnStatement = Callable[[int], None]
#: The history row (or seed log row) that ends a file's transaction, as SQL; it is given
#: the duration in ms measured by the client, or None to let the server measure it.
Record = Callable[[int | None], str]


def apply_with_retries(conn: psycopg.Connection[Any], file: MigrationFile,
                       statements: Sequence[Statement], *, record: Record, restore: str,
                       statement_lock_timeout: float, lock_retries: int, durable: bool = True,
                       earlier: int = 0, on_statement: OnStatement | None = None) -> int:
    """:func:`apply_file`, tried again when a lock wait timed out (as GitLab does).

    A short ``lock_timeout`` keeps a migration from blocking the application;
    retrying after a pause gives a busy table a chance to become free without
    a human re-running the deploy.  Only transactional files are retried: a
    lock timeout rolled everything of them back.
    """
    for attempt in range(lock_retries + 1):
        try:
            return apply_file(conn, file, statements, record=record, restore=restore,
                              statement_lock_timeout=statement_lock_timeout, durable=durable,
                              earlier=earlier, on_statement=on_statement)
        except MigrationFailed as exc:
            if exc.sqlstate != "55P03" or not file.transactional or attempt == lock_retries:
                raise
            pause = min(2.0 ** attempt, 30.0)
            log.warning("%s: a lock wait timed out (attempt %d of %d); retrying in %gs",
                        file.name, attempt + 1, lock_retries + 1, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")


def lock_timeout_ms(seconds: float) -> int:
    """PostgreSQL's lock_timeout for ``seconds``; never 0, which would mean no timeout."""
    return max(1, round(seconds * 1000))


def checks_client(conn: psycopg.Connection[Any]) -> bool:
    """Whether the server has client_connection_check_interval (PostgreSQL 14+)."""
    return conn.info.server_version >= 140000


def prologue(file: MigrationFile, *, lock_timeout_ms: int, check_client: bool = True) -> str:
    """What is sent before a file's statements: its transaction and its timeouts.

    ``statement_timeout`` is lifted because roles and managed servers often set
    one for applications, and a migration cut off half-way helps nobody; the
    short ``lock_timeout`` is what protects the application instead.
    ``client_connection_check_interval`` (PostgreSQL 14+) makes the server
    notice within a second that a killed runner is gone, even in the middle
    of a long statement, so its transaction and its lock end with it.
    """
    scope = "local " if file.transactional else ""
    sql = [f"set {scope}lock_timeout = {lock_timeout_ms}", f"set {scope}statement_timeout = 0"]
    if check_client:
        sql.append(f"set {scope}client_connection_check_interval = 1000")
    if file.transactional:
        sql.insert(0, "begin")
    return "; ".join(sql)


def opening(file: MigrationFile, *, lock_timeout_ms: int, check_client: bool = True
            ) -> tuple[str, int, int]:
    """A transactional file's first message, where its text starts, and how many
    statements come before it.  The prologue ends with its own ``;`` and a newline,
    so the file's text follows untouched."""
    head = prologue(file, lock_timeout_ms=lock_timeout_ms, check_client=check_client) + ";\n"
    return head + file.text, len(head), head.count(";")


def closing(file: MigrationFile, *, record: str, restore: str, durable: bool) -> str:
    """The last message of a file: the session put back, its history row, the commit.

    The run's last file commits synchronously whatever the file set, which
    also makes the earlier files of the run (committed without waiting for
    the disk) durable.  The history row is in a message of its own: with the
    file's text as a literal beside the CREATE FUNCTION bodies, PostgreSQL
    could no longer place an error inside a body.
    """
    sync = "on" if durable else "off"
    body = f"{restore}; set local synchronous_commit = {sync}; {record}; commit"
    return body if file.transactional else f"begin; {body}"


def first_error(results: Sequence[PGresult]) -> int | None:
    """The index of the first error result (the server stops there), or None."""
    from psycopg.pq import ExecStatus

    ok = (ExecStatus.COMMAND_OK, ExecStatus.TUPLES_OK, ExecStatus.EMPTY_QUERY)
    return next((i for i, r in enumerate(results) if r.status not in ok), None)


def apply_file(conn: psycopg.Connection[Any], file: MigrationFile,
               statements: Sequence[Statement], *, record: Record, restore: str,
               statement_lock_timeout: float, durable: bool = True, earlier: int = 0,
               on_statement: OnStatement | None = None) -> int:
    """Apply ``file`` and ``record`` it in the same transaction; return its duration in ms.

    ``durable=False`` commits without waiting for the WAL flush: the runner
    sets it on every file but the last of a run, whose synchronous commit
    flushes the earlier ones too.  Each commit stays atomic either way; a
    server crash can only lose whole files together with their history rows.
    ``earlier`` (files this run applied before) only shapes the message when
    the connection is lost.
    """
    import psycopg

    timeout = lock_timeout_ms(statement_lock_timeout)
    check_client = checks_client(conn)
    encoding = conn.info.parameter_status("client_encoding")
    done = 0
    try:
        started = time.perf_counter()
        if file.transactional:
            message, base, skip = opening(file, lock_timeout_ms=timeout,
                                          check_client=check_client)
            wire.send(conn, message)
            results = wire.results(conn, _counter(skip, on_statement))
            bad = first_error(results)
            if bad is not None:
                raise _failed(conn, file, statements, max(0, bad - skip), results[bad], -base)
            done = len(statements)
            return _finish(conn, file, statements, record(None), restore, durable, encoding)
        _one(conn, prologue(file, lock_timeout_ms=timeout, check_client=check_client))
        for stmt in statements:
            bad_result = _one(conn, stmt.text)
            if bad_result is not None:
                raise _failed(conn, file, statements, done, bad_result, stmt.offset,
                              committed=done)
            done += 1
            if on_statement is not None:
                on_statement(done)
        ms = round((time.perf_counter() - started) * 1000)
        return _finish(conn, file, statements, record(ms), restore, durable, encoding, ms)
    except BaseException as exc:  # Ctrl-C included: never leave half a file behind
        failed = isinstance(exc, MigrationFailed)
        if not usable(conn) or (failed and ServerError(
                "", getattr(exc, "sqlstate", None)).connection_lost):
            if failed:
                raise lost(file, statements, exc.statement_index - 1,  # type: ignore[attr-defined]
                           exc.pg_message, earlier=earlier) from exc  # type: ignore[attr-defined]
            if isinstance(exc, psycopg.Error):
                raise lost(file, statements, done, str(exc), earlier=earlier) from exc
            raise
        try:
            _clean_up(conn, file, restore)
        except psycopg.Error as again:
            if not usable(conn):
                raise lost(file, statements, done, str(again), earlier=earlier) from exc
            raise
        if isinstance(exc, psycopg.Error):
            raise describe(file, statements, min(done, len(statements)), ServerError.of(exc),
                           committed=0 if file.transactional else done) from exc
        raise


def _clean_up(conn: psycopg.Connection[Any], file: MigrationFile, restore: str) -> None:
    """After a failure: end the transaction, and put back a session the file changed."""
    from psycopg.pq import TransactionStatus

    if conn.info.transaction_status != TransactionStatus.IDLE:
        _one(conn, "rollback")
    if not file.transactional:  # its settings were session-wide
        _one(conn, restore)


def _counter(skip: int, on_statement: OnStatement | None) -> Callable[[PGresult], None] | None:
    """Turn the message's results into the file's statement count for ``on_statement``."""
    if on_statement is None:
        return None
    seen = 0

    def arrived(_: PGresult) -> None:
        nonlocal seen
        seen += 1
        if seen > skip:
            on_statement(seen - skip)

    return arrived


def _finish(conn: psycopg.Connection[Any], file: MigrationFile,
            statements: Sequence[Statement], record: str, restore: str, durable: bool,
            encoding: str | None, ms: int | None = None) -> int:
    """Send :func:`closing`; the duration the history row returned (else ``ms``).

    A file that changed client_encoding gets it set back first, in a message
    of its own: the closing message would otherwise be read in the file's
    encoding before its first statement could put the session back.
    """
    from psycopg.pq import ExecStatus

    if encoding and conn.info.parameter_status("client_encoding") != encoding:
        _one(conn, f"set client_encoding = '{encoding}'")
    wire.send(conn, closing(file, record=record, restore=restore, durable=durable))
    results = wire.results(conn)
    bad = first_error(results)
    if bad is not None:
        raise describe(file, statements, len(statements),
                       ServerError.of(results[bad], conn.info.encoding))
    row = results[-2] if len(results) > 1 else None
    if row is not None and row.status == ExecStatus.TUPLES_OK and row.ntuples:
        value = row.get_value(0, 0)
        if value is not None:
            return int(value)
    return ms or 0


def _one(conn: psycopg.Connection[Any], sql: str) -> PGresult | None:
    """One message over the simple protocol; its error result, if it failed."""
    wire.send(conn, sql)
    results = wire.results(conn)
    bad = first_error(results)
    return None if bad is None else results[bad]


def _failed(conn: psycopg.Connection[Any], file: MigrationFile,
            statements: Sequence[Statement], failed: int, result: PGresult, shift: int, *,
            committed: int = 0) -> MigrationFailed:
    """A failed statement as :class:`MigrationFailed`; ``shift`` maps message positions
    to file offsets (the offset of the message's first character in the file)."""
    error = ServerError.of(result, conn.info.encoding)
    offset = None
    if error.position is not None and error.position - 1 + shift >= 0:
        offset = error.position - 1 + shift
        if file.transactional:  # a syntax error the server found can be in any statement
            failed = failing_statement(statements, offset)
    failed = min(failed, max(0, len(statements) - 1))
    extra = None
    if error.sqlstate == "55P03" and statements and usable(conn):
        _clean_up(conn, file, "")
        extra = lock_holders(conn, statements[failed].text)
    if error.sqlstate == "42601" and offset is not None and statements:  # parse passed it
        stmt = statements[failed]
        extra = older_grammar(conn.info.server_version, stmt.text, offset - stmt.offset)
    return describe(file, statements, failed, error, offset=offset, committed=committed,
                    extra=extra)
