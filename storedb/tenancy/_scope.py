"""Running application code as one store: the transaction-scoped tenant context.

Row level security compares every row's store_id with
``get_current_store_id()``, which reads a transaction-local setting.  Setting
it inside a transaction that ends with the block means a pooled connection
can never carry one store's context to the next borrower.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Union
from uuid import UUID

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

Db = Union["psycopg.Connection[Any]", "psycopg_pool.ConnectionPool[Any]"]


@contextlib.contextmanager
def borrow(db: Db) -> Iterator[psycopg.Connection[Any]]:
    """The connection itself, or one borrowed from a pool for the block."""
    if hasattr(db, "connection") and not hasattr(db, "pgconn"):
        with db.connection() as conn:
            yield conn
    else:
        yield db  # type: ignore[misc]


@contextlib.contextmanager
def tenant_scope(db: Db, store_id: UUID | str) -> Iterator[psycopg.Connection[Any]]:
    """A transaction with the store set; yields the connection to query as that store.

    Commits when the block ends normally, rolls back on an exception.  Nested
    in an open transaction it uses a savepoint and puts the previous store
    back afterwards, so the outer transaction's context is unchanged.
    """
    with borrow(db) as conn:
        nested = conn.info.transaction_status != 0  # not IDLE: the app has a transaction open
        with conn.transaction():
            row = conn.execute(
                "select current_setting('app.current_store_id', true), set_current_store_id(%s)",
                (str(store_id),)).fetchone()
            yield conn
            if nested:  # a savepoint is released into the outer transaction: put it back
                conn.execute("select set_config('app.current_store_id', %s, true)",
                             (row[0] if row and row[0] else "",))
