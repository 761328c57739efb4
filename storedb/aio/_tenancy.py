"""The tenant DAO and tenant_scope as coroutines.

Each call sends the sync DAO's one message (built by
:func:`~storedb.tenancy._dao.trip_message` from the same calls) and reads it
the same way; the isolation rules (no superuser or BYPASSRLS role, unknown
and soft-deleted stores refused) and the error translations are the sync
layer's functions.  Only the waiting is asynchronous.  Cancelling a task
cancels its statement on the server (psycopg does) and rolls back.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Union
from uuid import UUID

from ..tenancy._dao import (
    UNDO_NESTED,
    Call,
    Tenant,
    create_call,
    get_call,
    get_result,
    soft_delete_call,
    translated,
    trip_message,
)
from ..tenancy._isolation import (
    _ROLE,
    cached_bypass,
    explained,
    refuse_bypassrls,
    refuse_superuser,
    remember,
)
from ..tenancy._scope import ENTER, RESTORE, refuse_store

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

ADb = Union[str, "psycopg.AsyncConnection[Any]", "psycopg_pool.AsyncConnectionPool[Any]"]


@contextlib.asynccontextmanager
async def _borrow(db: ADb) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """The connection itself, one lent by a pool, or one opened for a DSN, for the block."""
    import psycopg

    if isinstance(db, str):
        async with await psycopg.AsyncConnection.connect(db) as conn:
            yield conn
    elif hasattr(db, "connection") and not hasattr(db, "pgconn"):
        async with db.connection() as conn:
            yield conn
    else:
        yield db  # type: ignore[misc]


async def _require_isolation(conn: psycopg.AsyncConnection[Any], allow_bypass: bool) -> None:
    """:func:`storedb.tenancy._isolation.require_isolation` on an async connection."""
    if allow_bypass:
        return
    from psycopg.pq import TransactionStatus
    from psycopg.rows import tuple_row

    key = refuse_superuser(conn)
    cached = cached_bypass(conn, key)
    if cached is None:
        idle = conn.info.transaction_status == TransactionStatus.IDLE
        cur = await conn.cursor(row_factory=tuple_row).execute(_ROLE)
        row = await cur.fetchone()
        if idle and conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()  # leave no transaction behind that our query opened
        cached = remember(conn, key, bool(row and row[0]))
    refuse_bypassrls(key, cached)


async def _one_trip(conn: psycopg.AsyncConnection[Any], call: Call, store: Call
                    ) -> Tenant | None:
    """The sync DAO's one round trip (same message, same recovery), awaited."""
    import psycopg
    from psycopg import AsyncClientCursor
    from psycopg.pq import TransactionStatus
    from psycopg.rows import tuple_row

    nested = conn.info.transaction_status != TransactionStatus.IDLE
    autocommit = conn.autocommit
    async with AsyncClientCursor(conn, row_factory=tuple_row) as cur:
        message, read = trip_message(cur.mogrify, nested, call, store)
        try:
            if not nested and not autocommit:
                await conn.set_autocommit(True)  # our own begin/commit
            await cur.execute(message)
            for _ in range(read):
                cur.nextset()
            row = await cur.fetchone()
        except BaseException:
            if not conn.closed and not conn.broken:
                if nested:
                    with contextlib.suppress(psycopg.Error):
                        await conn.execute(UNDO_NESTED)
                elif conn.info.transaction_status != TransactionStatus.IDLE:
                    await conn.execute("rollback")
            raise
        finally:
            if not nested and not autocommit and not conn.closed:
                await conn.set_autocommit(False)
    return Tenant(*row) if row else None


async def create_tenant(db: ADb, *, subdomain: str, name: str, plan: str | None = None,
                        locale: str | None = None, timezone: str | None = None,
                        currency_code: str | None = None, allow_bypass: bool = False) -> Tenant:
    """:func:`storedb.create_tenant` for asyncio."""
    call, store = create_call(subdomain, name, plan, locale, timezone, currency_code)
    async with _borrow(db) as conn:
        with translated(subdomain):
            await _require_isolation(conn, allow_bypass)
            tenant = await _one_trip(conn, call, store)
    assert tenant is not None
    return tenant


async def soft_delete_tenant(db: ADb, tenant_id: UUID | str, *, allow_bypass: bool = False
                             ) -> Tenant:
    """:func:`storedb.soft_delete_tenant` for asyncio."""
    call, store = soft_delete_call(tenant_id)
    async with _borrow(db) as conn:
        with translated(tenant=tenant_id):
            await _require_isolation(conn, allow_bypass)
            tenant = await _one_trip(conn, call, store)
    assert tenant is not None
    return tenant


async def get_tenant(db: ADb, *, id: UUID | str | None = None, subdomain: str | None = None,
                     allow_bypass: bool = False) -> Tenant | None:
    """:func:`storedb.get_tenant` for asyncio."""
    call, store = get_call(id, subdomain)
    async with _borrow(db) as conn:
        await _require_isolation(conn, allow_bypass)
        return get_result(await _one_trip(conn, call, store), subdomain)


@contextlib.asynccontextmanager
async def tenant_scope(db: ADb, store_id: UUID | str, *, allow_deleted: bool = False,
                       allow_bypass: bool = False
                       ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """:func:`storedb.tenant_scope` for asyncio: ``async with tenant_scope(pool, id) as conn``."""
    from psycopg import AsyncClientCursor
    from psycopg.pq import TransactionStatus
    from psycopg.rows import tuple_row

    store = str(UUID(str(store_id)))  # a malformed id fails here, not in SQL
    async with _borrow(db) as conn:
        await _require_isolation(conn, allow_bypass)
        nested = conn.info.transaction_status != TransactionStatus.IDLE
        async with conn.transaction():
            with explained(store):
                async with AsyncClientCursor(conn, row_factory=tuple_row) as cur:
                    await cur.execute(ENTER, (store,))
                    previous = (await cur.fetchone() or (None,))[0]
                    cur.nextset()
                    found = await cur.fetchone()
                refuse_store(store, found, allow_deleted=allow_deleted)
                yield conn
                if nested:  # a savepoint is released into the outer transaction
                    await conn.execute(RESTORE, (previous or "",))
