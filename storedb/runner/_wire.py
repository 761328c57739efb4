"""The few psycopg internals storedb relies on, in one place.

A migration file travels as one simple-protocol message holding many
statements; the server answers with one result per statement and stops at
the first error.  psycopg's public API returns only the last result of such
a message, so this module drives libpq through ``psycopg.generators`` and
``Connection.wait`` (which cancels the statement on the server when Ctrl-C
interrupts the wait).  These calls are not documented API: pyproject pins
psycopg below 3.4, and nothing else in storedb imports them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg
    from psycopg.pq.abc import PGresult


def send(conn: psycopg.Connection[Any], message: str) -> None:
    """Send ``message`` (any number of statements) over the simple query protocol.

    The bytes are UTF-8, as the files are and as psql sends them.
    """
    from psycopg import generators

    conn.pgconn.send_query(message.encode("utf-8"))
    conn.wait(generators.send(conn.pgconn))


def results(conn: psycopg.Connection[Any],
            on_result: Callable[[PGresult], None] | None = None) -> list[PGresult]:
    """Every result of the message just sent, in order; ``on_result`` sees each as it arrives.

    The server runs the statements in order and stops at the first error, so
    the position of an error result says which statement failed.  On Ctrl-C
    (or any error of ours) the remaining results are drained, so the
    connection can still roll back.
    """
    import psycopg
    from psycopg import generators
    from psycopg.pq import ExecStatus

    out: list[PGresult] = []
    try:
        while True:
            try:
                result = conn.wait(generators.fetch(conn.pgconn))
            except psycopg.DatabaseError:
                # the server may close the connection right after a FATAL error result
                if any(r.status == ExecStatus.FATAL_ERROR for r in out):
                    break
                raise
            if result is None:
                return out
            if result.status == ExecStatus.COPY_IN:  # refused before sending; never hang on it
                conn.wait(generators.copy_end(conn.pgconn, b"storedb sends no COPY data"))
                continue
            if result.status == ExecStatus.COPY_OUT:
                while not isinstance(conn.wait(generators.copy_from(conn.pgconn)),
                                     type(result)):
                    pass
                continue
            out.append(result)
            if on_result is not None:
                on_result(result)
    except BaseException:
        drain(conn)
        raise
    return out


def drain(conn: psycopg.Connection[Any]) -> None:
    """Read and drop whatever results are still on their way (after an interruption)."""
    from psycopg import generators

    with contextlib.suppress(Exception):  # a connection that cannot even drain is lost anyway
        while not conn.closed and conn.wait(generators.fetch(conn.pgconn), timeout=5.0):
            pass
