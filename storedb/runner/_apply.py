"""Running one file against the database, atomically with its history row.

An ordinary file runs in one transaction with its history row: its
statements travel in one simple-protocol message, whose per-statement
results name the statement that failed and its line in the file.  A
``no-transaction`` file runs statement by statement and is recorded only
once every statement has succeeded.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import MigrationFailed
from . import _history as history
from ._files import MigrationFile
from ._progress import holders, marker
from ._statements import Statement, position

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("storedb")

#: Result statuses of statements that succeeded (PGRES_COMMAND_OK, TUPLES_OK, EMPTY_QUERY).
_OK = frozenset({1, 2, 0})


def apply_with_retries(conn: psycopg.Connection[Any], file: MigrationFile,
                       statements: Sequence[Statement], *, statement_lock_timeout: float,
                       lock_retries: int, durable: bool = True,
                       on_statement: Callable[[int], None] | None = None) -> int:
    """:func:`apply_file`, tried again when a lock wait timed out (as GitLab does).

    A short ``lock_timeout`` keeps a migration from blocking the application;
    retrying after a pause gives a busy table a chance to become free without
    a human re-running the deploy.  Only transactional files are retried: a
    lock timeout rolled everything of them back.
    """
    for attempt in range(lock_retries + 1):
        try:
            return apply_file(conn, file, statements, on_statement=on_statement,
                              statement_lock_timeout=statement_lock_timeout, durable=durable)
        except MigrationFailed as exc:
            if exc.sqlstate != "55P03" or not file.transactional or attempt == lock_retries:
                raise
            pause = min(2.0 ** attempt, 30.0)
            log.warning("%s: a lock wait timed out (attempt %d of %d); retrying in %gs",
                        file.name, attempt + 1, lock_retries + 1, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")


def _run(conn: psycopg.Connection[Any], sql: str) -> None:
    """One statement over the simple query protocol, as psql sends it.

    psycopg waits for the server in Python, so Ctrl-C cancels the statement
    on the server instead of waiting for it to finish.
    """
    conn.execute(sql)


def lock_timeout_ms(seconds: float) -> int:
    """PostgreSQL's lock_timeout for ``seconds``; never 0, which would mean no timeout."""
    return max(1, round(seconds * 1000))


def checks_client(conn: psycopg.Connection[Any]) -> bool:
    """Whether the server has client_connection_check_interval (PostgreSQL 14+)."""
    return conn.info.server_version >= 140000


def prologue(file: MigrationFile, *, lock_timeout_ms: int, durable: bool,
             check_client: bool = True) -> str:
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
        if not durable:
            sql.append("set local synchronous_commit = off")
    return "; ".join(sql)


def epilogue(file: MigrationFile, *, check_client: bool = True) -> str:
    if file.transactional:
        return "commit"
    return "reset lock_timeout; reset statement_timeout" + (
        "; reset client_connection_check_interval" if check_client else "")


def record(file: MigrationFile, duration_ms: int | None) -> tuple[str, tuple[Any, ...]]:
    """The history insert and its parameters.

    In a transactional file the duration is measured by the server (from the
    transaction's start), so the insert is the same whether run or printed.
    """
    duration = "(extract(epoch from clock_timestamp() - now()) * 1000)::integer" \
        if duration_ms is None else "%s"
    query = ("insert into public.schema_migrations (filename, checksum, applied_checksum, "
             f"duration_ms, sql_text, kind) values (%s, %s, %s, {duration}, %s, 'applied') "
             "returning duration_ms")
    params: tuple[Any, ...] = (file.name, file.checksum, file.checksum)
    params += (file.text,) if duration_ms is None else (duration_ms, file.text)
    return query, params


def _send(conn: psycopg.Connection[Any], message: str) -> list[Any]:
    """Send one simple-protocol message; return a result per statement that ran.

    The server runs the statements in order and stops at the first error, so
    the results say exactly which statement failed.  ``Connection.wait``
    cancels the statement on the server when Ctrl-C interrupts the wait.
    """
    from psycopg import generators

    conn.pgconn.send_query(message.encode())
    return conn.wait(generators.execute(conn.pgconn))


def apply_file(conn: psycopg.Connection[Any], file: MigrationFile,
               statements: Sequence[Statement], *, statement_lock_timeout: float,
               durable: bool = True, on_statement: Callable[[int], None] | None = None) -> int:
    """Apply ``file`` and record it; return its duration in ms.

    With ``on_statement`` (progress reporting, see ``_progress``) each statement
    of a transactional file is preceded by a marker the progress watcher reads,
    and ``on_statement(k)`` is called before statement k of a no-transaction file.

    A transactional file travels as two messages: begin, settings and its
    statements, then the history insert and commit; psql needs a round trip
    per statement.  A ``no-transaction`` file goes statement by statement, since
    PostgreSQL runs a multi-statement message as one transaction.

    ``durable=False`` commits without waiting for the WAL flush: the runner
    sets it on every file but the last of a run, whose synchronous commit
    flushes the earlier ones too.  Each commit stays atomic either way; a
    server crash can only lose whole files together with their history rows.
    """
    import psycopg
    from psycopg import ClientCursor, pq

    check_client = checks_client(conn)
    head = prologue(file, lock_timeout_ms=lock_timeout_ms(statement_lock_timeout),
                    durable=durable, check_client=check_client)
    done = 0
    try:
        if file.transactional:
            step = 1 if on_statement is None else 2  # a progress marker before each one
            body = [s.text for s in statements] if step == 1 else [
                piece for k, s in enumerate(statements, 1)
                for piece in (marker(k, len(statements)), s.text)]
            pieces = [head, *body]
            skip = head.count(";") + 1  # the prologue's own statements come first
            results = _send(conn, ";\n".join(pieces))
            bad = _first_error(results)
            if bad is not None:
                done = max(0, min(len(statements) - 1, (results.index(bad) - skip) // step))
                # where the failing statement starts in the message, for its error position
                raise _error(conn, bad, len(";\n".join(pieces[:step * (done + 1)])) + 2)
            done = len(statements)
            # The history row goes in a message of its own: with the file's text as a
            # literal beside the CREATE FUNCTION bodies, PostgreSQL could no longer
            # place an error inside a body.
            query, params = record(file, None)
            insert = ClientCursor(conn).mogrify(query, params)
            results = _send(conn, f"{insert};\n{epilogue(file)}")
            bad = _first_error(results)
            if bad is not None:
                raise _error(conn, bad, 0)
            value = results[0].get_value(0, 0)
            return int(value) if value is not None else 0
        started = time.perf_counter()
        _run(conn, head)
        for stmt in statements:
            if on_statement is not None:
                on_statement(done + 1)
            _run(conn, stmt.text)
            done += 1
        query, params = record(file, round((time.perf_counter() - started) * 1000))
        row = conn.execute(query, params).fetchone()
        return int(row[0]) if row else 0
    except BaseException as exc:  # Ctrl-C included: never leave half a file behind
        if not conn.closed and not conn.broken and \
                conn.info.transaction_status != pq.TransactionStatus.IDLE:
            conn.execute("rollback")
        if isinstance(exc, psycopg.Error):
            committed = 0 if file.transactional else done
            raise failure(conn, file, statements, done, exc, committed=committed,
                          shift=getattr(exc, "storedb_shift", 0)) from exc
        raise
    finally:
        if not file.transactional and not conn.closed and not conn.broken:
            _run(conn, epilogue(file, check_client=check_client))


def _first_error(results: list[Any]) -> Any:
    return next((r for r in results if r.status not in _OK), None)


def _error(conn: psycopg.Connection[Any], result: Any, shift: int) -> Exception:
    """The psycopg exception for an error result, remembering where its statement starts."""
    from psycopg import errors

    exc = errors.error_from_result(result, encoding=conn.info.encoding)
    exc.storedb_shift = shift  # type: ignore[attr-defined]
    return exc


def failure(conn: psycopg.Connection[Any], file: MigrationFile,
            statements: Sequence[Statement], done: int, exc: Exception, *, committed: int,
            shift: int = 0) -> MigrationFailed:
    """Turn a psycopg error into a message a DBA can act on: FILE:LINE:COL and every field."""
    import psycopg

    diag = exc.diag if isinstance(exc, psycopg.Error) else None
    sqlstate = diag.sqlstate if diag else None
    pg_message = (diag.message_primary if diag else None) or str(exc).strip()
    total = len(statements)
    if done >= total:  # the statements ran; recording the history row failed
        stmt = statements[-1]
        where = f"{file.name} (recording it in {history.TABLE})"
        line, column = stmt.line, stmt.column
    else:
        stmt = statements[done]
        offset = stmt.offset
        if diag and diag.statement_position:  # ``shift``: text sent ahead of the statement
            offset += max(0, int(diag.statement_position) - 1 - shift)
        line, column = position(file.text, offset)
        where = f"{file.name}:{line}:{column}"
    parts = [f"{where}: {pg_message}"]
    if sqlstate:
        parts[0] += f" [SQLSTATE {sqlstate}]"
    detail = diag.message_detail if diag else None
    hint = diag.message_hint if diag else None
    context = diag.context if diag else None
    for label, value in (("DETAIL", detail), ("HINT", hint), ("CONTEXT", context)):
        if value:
            parts.append(f"{label}: {value}")
    if done < total:
        parts.append(f"in statement {done + 1} of {total} (line {stmt.line}):\n    "
                     + stmt.head.replace("\n", "\n    "))
    if sqlstate == "55P03" and done < total:
        parts.append(lock_holders(conn, stmt.text))
    if sqlstate == "25001":  # active_sql_transaction: cannot run inside a transaction block
        parts.append("This statement cannot run inside a transaction: put it in a file of its own "
                     "whose header has the line '-- storedb:no-transaction'.")
    if sqlstate in ("42P07", "42710", "42723"):  # duplicate table / object / function
        parts.append("If this database was built before storedb managed it, record what it "
                     "already has with 'storedb baseline --through FILE' instead of re-running.")
    transient = sqlstate in ("55P03", "40001", "40P01", "57014")  # locks, conflicts, cancel
    if file.transactional:
        parts.append(f"Nothing of {file.name} was kept (its transaction was rolled back); "
                     "files before it stay applied."
                     + ("" if transient else " Fix the file and run migrate again."))
    elif committed:
        kept = f"statement 1 of {total} was" if committed == 1 else \
            f"statements 1-{committed} of {total} were"
        parts.append(
            f"{file.name} runs without a transaction: {kept} committed and stay"
            f"; statement {committed + 1} and later did not run. The file is still pending: make "
            "it safe to re-run (IF NOT EXISTS ...) and run migrate again.")
    else:
        parts.append(f"{file.name} runs without a transaction; no statement of it was committed. "
                     "The file is still pending.")
    return MigrationFailed(
        "\n".join(parts), file=file.name, line=line, column=column,
        statement_index=min(done + 1, total), statement_count=total, sqlstate=sqlstate,
        pg_message=pg_message, detail=detail, hint=hint, context=context,
        committed_statements=committed)


def relations_in(statement: str) -> list[str]:
    """Relation names a statement mentions, from PostgreSQL's parse tree."""
    from pglast import parser

    try:
        tree = parser.parse_sql_json(statement)
    except parser.ParseError:
        return []
    names = []
    for node in re.finditer(r'\{"(?:schemaname":"([^"]*)",")?relname":"([^"]*)"', tree):
        names.append(f"{node.group(1)}.{node.group(2)}" if node.group(1) else node.group(2))
    return sorted(set(names)) or [json.dumps(statement[:40])]


def lock_holders(conn: psycopg.Connection[Any], statement: str) -> str:
    """Which backends hold locks on the relations a timed-out statement needed."""
    names = relations_in(statement)
    rows = conn.execute(
        """select l.relation::regclass::text, l.mode, l.pid
           from pg_locks l
           where l.granted and l.locktype = 'relation' and l.pid <> pg_backend_pid()
             and l.relation in (select to_regclass(n) from unnest(%s::text[]) n)
           order by 1, 3""", (names,)).fetchall()
    if not rows:
        return (f"The lock wait on {', '.join(names)} timed out (--statement-lock-timeout); the "
                "holder has gone since. Run migrate again.")
    from .._connection import caller_pid

    mine = caller_pid.get()
    described = holders(conn, sorted({r[2] for r in rows}))
    lines = [f"  {rel}: {mode} held by {described[pid]}"
             + (" <- the connection you passed to storedb: commit or roll back its transaction "
                "before migrating" if pid == mine else "")
             for rel, mode, pid in rows]
    return ("Waiting for a lock took longer than --statement-lock-timeout, so the migration gave "
            "up rather than block the application's queries behind it. Held by:\n"
            + "\n".join(lines)
            + "\nRun migrate again when that transaction has finished (or end it).")
