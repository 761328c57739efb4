"""migrate, status and check as coroutines, on top of the sync runner.

The up-to-date check, which every application start pays, runs natively on
the async connection: the history's digest (the sync runner's own query)
against the directory's digest (the same pure function), one round trip.
When there is work, or for status and check, the sync runner runs in a
worker thread on a sync connection of its own, opened from the same
conninfo, so the lock, the apply loop, the retries and every message are the
sync runner's.  Cancelling the task cancels the running statement on the
server (its file is rolled back, the lock released with the connection) and
stops the runner between files and while it waits for the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar, Union

from .. import runner
from .._connection import CLOSED, _explained, caller_pid, connect, conninfo_of, resolve
from ..errors import ConnectError
from ..runner import _history as history
from ..runner._files import Directory, checksums, directory_digest, resolve_directory
from ..runner._results import AppliedFile, CheckResult, MigrateResult, StatusResult

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

ADatabase = Union[str, "psycopg.AsyncConnection[Any]", "psycopg_pool.AsyncConnectionPool[Any]"]

T = TypeVar("T")


class _Cancelled(BaseException):
    """Raised inside the worker thread when its task was cancelled (between statements)."""


async def migrate(db: ADatabase | None = None, *, directory: Directory = None,
                  target: str | None = None, out_of_order: bool = False, dry_run: bool = False,
                  sql: bool = False, lock_timeout: float = 60.0,
                  statement_lock_timeout: float = 5.0, lock_retries: int = 3, wait: float = 0.0,
                  on_applied: Callable[[AppliedFile], None] | None = None) -> MigrateResult:
    """:func:`storedb.migrate` for asyncio; ``on_applied`` is called on the event loop."""
    root = resolve_directory(directory)
    target_db = _resolve(db)
    if target is None and not isinstance(target_db, str):
        digest = directory_digest(checksums(root))
        async with _idle(target_db) as conn:
            if conn is not None and await _history_digest(conn) == digest:
                return MigrateResult(up_to_date=True, dry_run=dry_run)
    loop = asyncio.get_running_loop()

    def run(conn: psycopg.Connection[Any], cancelled: threading.Event) -> MigrateResult:
        def applied(item: AppliedFile) -> None:
            if on_applied is not None:
                loop.call_soon_threadsafe(on_applied, item)
            if cancelled.is_set():
                raise _Cancelled

        return runner.migrate(conn, directory=root, target=target, out_of_order=out_of_order,
                              dry_run=dry_run, sql=sql, lock_timeout=lock_timeout,
                              statement_lock_timeout=statement_lock_timeout,
                              lock_retries=lock_retries, on_applied=applied)

    return await _in_thread(target_db, run, wait=wait)


async def status(db: ADatabase | None = None, *, directory: Directory = None,
                 wait: float = 0.0) -> StatusResult:
    """:func:`storedb.status` for asyncio."""
    root = resolve_directory(directory)
    return await _in_thread(_resolve(db), lambda conn, _: runner.status(conn, directory=root),
                            wait=wait)


async def check(db: ADatabase | None = None, *, directory: Directory = None, wait: float = 0.0,
                tenancy: bool = False) -> CheckResult:
    """:func:`storedb.check` for asyncio."""
    root = resolve_directory(directory)
    return await _in_thread(
        _resolve(db), lambda conn, _: runner.check(conn, directory=root, tenancy=tenancy),
        wait=wait)


def _resolve(db: ADatabase | None) -> ADatabase:
    """The argument, else the environment's DSN (the sync rule: never a server of our own)."""
    return db if db is not None else str(resolve(None))


@contextlib.asynccontextmanager
async def _idle(db: Any) -> AsyncIterator[psycopg.AsyncConnection[Any] | None]:
    """The connection when it is idle (a pool lends one), else None: it is in a transaction."""
    from psycopg.pq import TransactionStatus

    if hasattr(db, "connection") and not hasattr(db, "pgconn"):  # a pool
        async with db.connection() as conn:
            yield conn
        return
    if db.closed:
        raise ConnectError(CLOSED)
    # inside the application's transaction the worker uses a sibling connection
    yield db if db.info.transaction_status == TransactionStatus.IDLE else None


#: connection -> the backend on which the digest query is prepared as _DIGEST.
_prepared: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_DIGEST = b"storedb_history_digest"


async def _history_digest(conn: psycopg.AsyncConnection[Any]) -> str | None:
    """history.history_digest() on an async connection: the same query, one round trip.

    It goes to libpq directly, as a statement prepared once per connection
    (psycopg prepares the sync runner's too): outside any transaction, so an
    idle connection needs no autocommit switch and stays exactly as it was.
    """
    from psycopg import errors, generators
    from psycopg.pq import DiagnosticField

    sqlstate = DiagnosticField.SQLSTATE
    with _explained():
        async with conn.lock:
            pgconn = conn.pgconn
            for _ in range(2):  # a second time if the prepared statement vanished (DISCARD ALL)
                if _prepared.get(conn) != pgconn.backend_pid:
                    pgconn.send_prepare(_DIGEST, history.DIGEST_QUERY.encode())
                    result = (await conn.wait(generators.execute(pgconn)))[-1]
                    if result.error_message:
                        break
                    _prepared[conn] = pgconn.backend_pid
                pgconn.send_query_prepared(_DIGEST, None)
                result = (await conn.wait(generators.execute(pgconn)))[-1]
                if result.error_field(sqlstate) != b"26000":
                    break
                _prepared.pop(conn, None)
        if not result.error_message:
            value = result.get_value(0, 0)
            return value.decode() if value is not None else None
        _prepared.pop(conn, None)
        if result.error_field(sqlstate) == b"42P01":  # no history table yet
            return None
        raise errors.error_from_result(result, encoding=conn.info.encoding)


async def _target(db: Any) -> tuple[str, int | None]:
    """The conninfo the worker connects with, and the caller's backend if it is in a transaction."""
    from psycopg.pq import TransactionStatus

    if isinstance(db, str):
        return db, None
    if hasattr(db, "connection") and not hasattr(db, "pgconn"):  # a pool
        async with db.connection() as conn:
            return conninfo_of(conn), None
    if db.closed:
        raise ConnectError(CLOSED)
    busy = db.info.transaction_status != TransactionStatus.IDLE
    return conninfo_of(db), db.info.backend_pid if busy else None


async def _in_thread(db: Any, work: Callable[[psycopg.Connection[Any], threading.Event], T], *,
                     wait: float) -> T:
    """Run ``work`` in a worker thread on a sync connection of its own; cancel it with the task.

    On cancellation the running statement is cancelled on the server (again
    every 0.1 s until the worker ends, so a statement started meanwhile is
    cancelled too), and the worker stops at its next wait for the lock or
    before its next file; the task ends only once the worker has, so its file
    was rolled back and its connection, with the lock, is closed.
    """
    conninfo, caller = await _target(db)
    cancelled = threading.Event()
    holder: list[psycopg.Connection[Any]] = []

    def run() -> T:
        if caller is not None:
            caller_pid.set(caller)  # messages name the caller's transaction when it blocks us
        conn = connect(conninfo, wait=wait)
        holder.append(conn)
        _stop_waiting_when(conn, cancelled)
        try:
            if cancelled.is_set():  # cancelled while connecting: start nothing
                raise _Cancelled
            return work(conn, cancelled)
        finally:
            conn.close()

    future = asyncio.ensure_future(asyncio.to_thread(run))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        cancelled.set()
        while not future.done():
            if holder and not holder[0].closed:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(holder[0].cancel_safe, timeout=2.0)
            await asyncio.wait({future}, timeout=0.1)
        with contextlib.suppress(BaseException):
            future.result()  # what the cancelled work raised: the task's answer is its cancel
        raise


def _stop_waiting_when(conn: psycopg.Connection[Any], cancelled: threading.Event) -> None:
    """Make the runner's wait for the lock (LISTEN, then notifies()) end on cancellation."""
    notifies = conn.notifies

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if cancelled.is_set():
            raise _Cancelled
        yield from notifies(*args, **kwargs)
        if cancelled.is_set():
            raise _Cancelled

    conn.notifies = guarded  # type: ignore[method-assign]
