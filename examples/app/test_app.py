"""The async application, tested through its lifespan and handlers (asyncio.run: no plugin)."""

from __future__ import annotations

import asyncio

import pytest
from app import App, NotFound, add_product, create_store, lifespan, list_products


def test_each_host_sees_its_own_store(database_url: str) -> None:
    async def main() -> None:
        app = App()
        async with lifespan(app):  # migrates (already up to date: one query), opens the pool
            await create_store(app, "acme", "Acme")
            await create_store(app, "globex", "Globex")
            await add_product(app, "acme.shop.example", "Mug", 12)
            await add_product(app, "globex.shop.example", "Lamp", 30)
            assert await list_products(app, "acme.shop.example") == [
                {"title": "Mug", "price": 12.0}]
            with pytest.raises(NotFound):
                await list_products(app, "initech.shop.example")

    asyncio.run(main())


def test_async_fixtures(storedb_app_aconn, store_factory) -> None:
    from storedb import aio

    shop = store_factory(subdomain="acme")

    async def main() -> list[tuple[str]]:
        async with aio.tenant_scope(storedb_app_aconn, shop.id) as conn:
            cur = await conn.execute("select subdomain from tenants")
            return await cur.fetchall()

    assert asyncio.run(main()) == [("acme",)]
