"""A FastAPI-shaped application on storedb.aio, in plain asyncio (no web framework needed).

``lifespan`` is what FastAPI/Starlette run around the application: migrate at
start-up (one query when the database is up to date) and open a pool as the
application's role; the handlers resolve the store from the request's host
and query inside ``tenant_scope``, where row level security shows that store only.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from storedb import aio


@dataclass
class App:
    state: dict[str, Any] = field(default_factory=dict)


class NotFound(Exception):
    """What a web framework would turn into a 404."""


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    await aio.migrate(os.environ["MIGRATE_DATABASE_URL"])  # as the schema's owner
    async with AsyncConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=4) as pool:
        app.state["pool"] = pool  # as a login role in storedb_app
        yield


async def create_store(app: App, subdomain: str, name: str) -> dict[str, Any]:
    shop = await aio.create_tenant(app.state["pool"], subdomain=subdomain, name=name)
    return {"id": str(shop.id), "subdomain": shop.subdomain}


async def _store_id(app: App, host: str) -> Any:
    shop = await aio.get_tenant(app.state["pool"], subdomain=host.split(".", 1)[0])
    if shop is None:
        raise NotFound(host)
    return shop.id


async def add_product(app: App, host: str, title: str, price: float) -> None:
    async with aio.tenant_scope(app.state["pool"], await _store_id(app, host)) as conn:
        await conn.execute("insert into products (title, price) values (%s, %s)", (title, price))


async def list_products(app: App, host: str) -> list[dict[str, Any]]:
    async with aio.tenant_scope(app.state["pool"], await _store_id(app, host)) as conn:
        cur = await conn.execute("select title, price::float from products order by title")
        return [{"title": t, "price": p} for t, p in await cur.fetchall()]
