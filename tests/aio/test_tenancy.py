"""storedb.aio's DAO and tenant_scope: the sync layer's rules, errors and results, awaited."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

import storedb
from storedb import aio


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_dao_through_a_connection_a_pool_and_a_dsn(storedb_app_aconn, storedb_app_dsn) -> None:
    async def main() -> None:
        shop = await aio.create_tenant(storedb_app_aconn, subdomain="acme", name="Acme",
                                       plan="starter")
        assert (shop.subdomain, shop.name, shop.subscription_plan) == ("acme", "Acme", "starter")
        assert storedb_app_aconn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        async with AsyncConnectionPool(storedb_app_dsn, min_size=1, open=False) as pool:
            assert await aio.get_tenant(pool, subdomain="acme") == shop
            assert await aio.get_tenant(pool, id=shop.id) == shop
            assert await aio.get_tenant(pool, subdomain="acme.example.com") is None
        gone = await aio.soft_delete_tenant(storedb_app_dsn, shop.id)
        assert gone.deleted and gone.id == shop.id
        assert await aio.get_tenant(storedb_app_dsn, subdomain="acme") is None
        with pytest.raises(storedb.TenantAlreadyDeleted):
            await aio.soft_delete_tenant(storedb_app_aconn, shop.id)
        with pytest.raises(storedb.SubdomainTaken):
            await aio.create_tenant(storedb_app_aconn, subdomain="taken", name="A")
            await aio.create_tenant(storedb_app_aconn, subdomain="taken", name="B")
        with pytest.raises(storedb.InvalidSubdomain):
            await aio.create_tenant(storedb_app_aconn, subdomain="-bad-", name="B")
        with pytest.raises(TypeError):
            await aio.get_tenant(storedb_app_aconn)

    run(main())
    # the sync DAO sees the same rows
    with psycopg.connect(storedb_app_dsn) as conn:
        assert storedb.get_tenant(conn, subdomain="taken").name == "A"


def test_dao_inside_the_callers_transaction_uses_a_savepoint(storedb_app_aconn) -> None:
    async def main() -> None:
        conn = storedb_app_aconn
        await conn.execute("select 1")  # the caller's transaction is open
        with pytest.raises(storedb.SubdomainTaken):
            await aio.create_tenant(conn, subdomain="www-shop", name="A")
            await aio.create_tenant(conn, subdomain="www-shop", name="B")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS  # usable
        await conn.rollback()
        assert await aio.get_tenant(conn, subdomain="www-shop") is None

    run(main())


def test_tenant_scope_isolates_stores(storedb_app_aconn, store_factory) -> None:
    a, b = store_factory(), store_factory()

    async def main() -> None:
        for shop in (a, b):
            async with aio.tenant_scope(storedb_app_aconn, shop.id) as conn:
                await conn.execute("insert into products (title, price) values (%s, 1)",
                                   (shop.subdomain,))
        async with aio.tenant_scope(storedb_app_aconn, a.id) as conn:
            cur = await conn.execute("select title from products")
            assert await cur.fetchall() == [("store-1",)]
            async with aio.tenant_scope(conn, b.id) as inner:  # nested: a savepoint
                cur = await inner.execute("select title from products")
                assert await cur.fetchall() == [("store-2",)]
            cur = await conn.execute("select get_current_store_id()")
            assert await cur.fetchone() == (a.id,)
        with pytest.raises(storedb.RowSecurityViolation):
            async with aio.tenant_scope(storedb_app_aconn, a.id) as conn:
                await conn.execute("insert into products (store_id, title, price) "
                                   "values (%s, 'x', 1)", (b.id,))

    run(main())


def test_tenant_scope_refusals_match_the_sync_ones(storedb_aconn, storedb_app_dsn,
                                                   store_factory, storedb_server) -> None:
    shop = store_factory()
    deleted = store_factory()
    with psycopg.connect(storedb_app_dsn) as conn:
        storedb.soft_delete_tenant(conn, deleted.id)
    su_dsn = storedb_server.dsn(psycopg.conninfo.conninfo_to_dict(storedb_app_dsn)["dbname"])

    async def main() -> None:
        with pytest.raises(storedb.TenantNotFound):
            async with aio.tenant_scope(storedb_app_dsn, "00000000-0000-0000-0000-000000000001"):
                pass
        with pytest.raises(storedb.TenantAlreadyDeleted):
            async with aio.tenant_scope(storedb_app_dsn, deleted.id):
                pass
        async with aio.tenant_scope(storedb_app_dsn, deleted.id, allow_deleted=True) as conn:
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        with pytest.raises(storedb.IsolationError, match="superuser"):
            async with aio.tenant_scope(su_dsn, shop.id):
                pass
        with pytest.raises(storedb.IsolationError, match="superuser"):
            await aio.get_tenant(su_dsn, id=shop.id)
        assert await aio.get_tenant(su_dsn, id=shop.id, allow_bypass=True) == shop

    run(main())
