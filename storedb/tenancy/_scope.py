"""Running application code as one store: the transaction-scoped tenant context.

Row level security compares every row's store_id with
``get_current_store_id()``, which reads a transaction-local setting.  Setting
it inside a transaction that ends with the block means a pooled connection
can never carry one store's context to the next borrower.

Forgetting the scope is not an error PostgreSQL can raise: with no store set,
reads of tenant tables are empty and writes are refused (a NULL store_id).
So every query on tenant tables belongs inside ``tenant_scope``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Union
from uuid import UUID

from ..errors import TenantAlreadyDeleted, TenantNotFound
from ._isolation import explained, require_isolation

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

Db = Union["psycopg.Connection[Any]", "psycopg_pool.ConnectionPool[Any]"]

# One message: remember the caller's store (for a nested scope), set ours, and find
# the store itself (RLS on tenants shows a session only its own store).
ENTER = ("select current_setting('app.current_store_id', true), set_current_store_id(%s);\n"
          "select deleted_at is not null from tenants where id = get_current_store_id()")


@contextlib.contextmanager
def borrow(db: Db) -> Iterator[psycopg.Connection[Any]]:
    """The connection itself, or one borrowed from a pool for the block."""
    if hasattr(db, "connection") and not hasattr(db, "pgconn"):
        with db.connection() as conn:
            yield conn
    else:
        yield db  # type: ignore[misc]


@contextlib.contextmanager
def tenant_scope(db: Db, store_id: UUID | str, *, allow_deleted: bool = False,
                 allow_bypass: bool = False) -> Iterator[psycopg.Connection[Any]]:
    """A transaction with the store set; yields the connection to query as that store.

    Commits when the block ends normally, rolls back on an exception.  Nested
    in an open transaction it uses a savepoint and puts the previous store
    back afterwards, so the outer transaction's context is unchanged.

    Refused up front: a role that bypasses row level security (a superuser or
    BYPASSRLS: isolation would silently be off; ``allow_bypass=True`` for admin
    tooling), an unknown store, and a soft-deleted one unless
    ``allow_deleted=True``.  Inside the block an INSERT may leave ``store_id``
    out (it defaults to the scope's store), and a row level security refusal
    becomes :class:`storedb.RowSecurityViolation` naming the policy and the fix.
    """
    from psycopg import ClientCursor
    from psycopg.pq import TransactionStatus
    from psycopg.rows import tuple_row

    store = str(UUID(str(store_id)))  # a malformed id fails here, not in SQL
    with borrow(db) as conn:
        require_isolation(conn, allow_bypass=allow_bypass)
        nested = conn.info.transaction_status != TransactionStatus.IDLE
        with conn.transaction(), explained(store):
            with ClientCursor(conn, row_factory=tuple_row) as cur:
                cur.execute(ENTER, (store,))
                previous = (cur.fetchone() or (None,))[0]
                cur.nextset()
                found = cur.fetchone()
            refuse_store(store, found, allow_deleted=allow_deleted)
            yield conn
            if nested:  # a savepoint is released into the outer transaction: put it back
                conn.execute(RESTORE, (previous or "",))


#: Puts the outer transaction's store back when a nested scope ends.
RESTORE = "select set_config('app.current_store_id', %s, true)"


def refuse_store(store: str, found: tuple[Any, ...] | None, *, allow_deleted: bool) -> None:
    """Raise unless ``ENTER`` found the store live (or deleted, when that is allowed)."""
    if found is None:
        raise TenantNotFound(f"no store with id {store} (unknown, or not visible to "
                             "this role): check the id; get_tenant() finds one by "
                             "subdomain.")
    if found[0] and not allow_deleted:
        raise TenantAlreadyDeleted(
            f"store {store} is soft-deleted: tenant_scope refuses it so a deleted store "
            "is not served by mistake. Pass allow_deleted=True to read it (exports, "
            "restores).")
