"""Serialising runners with a PostgreSQL session advisory lock.

The lock is taken by polling ``pg_try_advisory_lock`` in autocommit: a
blocking ``pg_advisory_lock`` would sit in a statement holding a snapshot,
and a later ``CREATE INDEX CONCURRENTLY`` in the holder would wait for that
snapshot forever.  A session lock dies with its connection, so a killed
runner never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .._connection import usable
from ..errors import LockTimeout

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("storedb")

#: The advisory lock key: the bytes "storedb\0" as a bigint; it is per database.
LOCK_KEY = int.from_bytes(b"storedb\x00", "big")

_HOLDER = """
select l.pid
from pg_locks l
where l.locktype = 'advisory' and l.granted and l.database = (
        select oid from pg_database where datname = current_database())
  and l.classid = (%(key)s >> 32)::oid and l.objid = (%(key)s & 4294967295)::oid
  and l.objsubid = 1
"""


def describe_holder(conn: psycopg.Connection[Any]) -> str:
    """Who holds the runner lock, as 'pid 123 (storedb, user app, ...)'."""
    from ._progress import holders

    row = conn.execute(_HOLDER, {"key": LOCK_KEY}).fetchone()
    if row is None:
        return "a session that has just released it"
    return holders(conn, [row[0]])[row[0]]


#: Released locks are announced here, so waiters wake at once instead of sleeping out a poll.
CHANNEL = "storedb_migrations"


@contextlib.contextmanager
def runner_lock(conn: psycopg.Connection[Any], *, timeout: float,
                done: Callable[[], bool] | None = None) -> Iterator[bool]:
    """Hold the runner lock for the block; yield False if ``done()`` says no lock is needed.

    ``done`` is asked while waiting: when another runner has finished the work
    meanwhile, waiters return at once instead of queueing for the lock.
    Waiters LISTEN on :data:`CHANNEL` and the holder NOTIFYs as it unlocks;
    waiting for a notification runs no statement (so holds no snapshot), and
    a poll every 0.2 s covers a holder that died without a word.
    """
    deadline = time.monotonic() + timeout
    next_report = time.monotonic() + 1.0
    listening = False
    try:
        while True:
            # after a wake-up, first ask whether the work is done: then no lock is needed
            if listening and done is not None and done():
                yield False
                return
            row = conn.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
            if row and row[0]:
                break
            if not listening:  # listen, then look again at once: no release can slip between
                conn.execute(f"listen {CHANNEL}")
                listening = True
                continue
            now = time.monotonic()
            if now >= deadline:
                raise LockTimeout(
                    f"gave up after {timeout:g}s waiting for the migration lock, held by "
                    f"{describe_holder(conn)}. Another storedb runner is migrating this "
                    "database: let it finish, or raise --lock-timeout; if that session is "
                    "stuck, end it with pg_terminate_backend(pid).")
            if now >= next_report:
                log.info("waiting for the migration lock held by %s", describe_holder(conn))
                next_report = now + 5.0
            for _ in conn.notifies(timeout=min(0.2, deadline - now), stop_after=1):
                pass
    finally:
        if listening and usable(conn):
            conn.execute(f"unlisten {CHANNEL}")
    try:
        yield True
    finally:
        if usable(conn):
            conn.execute("select pg_advisory_unlock(%s), pg_notify(%s, '')", (LOCK_KEY, CHANNEL))
