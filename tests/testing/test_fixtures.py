"""The plugin's fixtures, as this project's own suite loads them (pytest11 entry point)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

import storedb
from storedb.testing import APP_USER, OWNER, Template
from tests.helpers import tables


def test_storedb_db_is_a_fresh_migrated_clone_owned_by_the_owner(storedb_db: str) -> None:
    with psycopg.connect(storedb_db) as conn:
        row = conn.execute("select current_user, pg_catalog.pg_get_userbyid(datdba) "
                           "from pg_database where datname = current_database()").fetchone()
        assert row == (OWNER, OWNER)
    assert {"tenants", "products", "orders"} <= tables(storedb_db)
    assert storedb.migrate(storedb_db).up_to_date


def test_each_test_has_its_own_database(storedb_db: str, storedb_template: Template) -> None:
    other = storedb_template.clone()
    try:
        assert other != storedb_db
        with psycopg.connect(other) as conn:
            conn.execute("create table only_here ()")
        assert "only_here" not in tables(storedb_db)
    finally:
        storedb_template.drop(other)
    with psycopg.connect(storedb_template.server.conninfo) as admin:
        assert admin.execute("select count(*) from pg_database where datname = %s",
                             (psycopg.conninfo.conninfo_to_dict(other)["dbname"],)
                             ).fetchone() == (0,)


def test_app_conn_is_an_app_role_under_rls(storedb_app_conn: psycopg.Connection,
                                           store_factory) -> None:
    first, second = store_factory(), store_factory(name="Second", plan="starter")
    assert (first.subdomain, second.subdomain, second.name) == ("store-1", "store-2", "Second")
    assert storedb_app_conn.execute("select current_user, pg_has_role('storedb_app', 'member')"
                                    ).fetchone() == (APP_USER, True)
    assert storedb_app_conn.execute("select count(*) from tenants").fetchone() == (0,)
    with storedb.tenant_scope(storedb_app_conn, second.id) as conn:
        assert conn.execute("select subdomain from tenants").fetchall() == [("store-2",)]


def test_store_factory_raises_the_dao_errors(store_factory) -> None:
    store_factory(subdomain="acme")
    with pytest.raises(storedb.SubdomainTaken):
        store_factory(subdomain="acme")


def test_async_connections_work_in_the_tests_own_loop(storedb_aconn, storedb_app_aconn) -> None:
    async def who(conn: psycopg.AsyncConnection) -> object:
        cur = await conn.execute("select current_user")
        return await cur.fetchone()

    async def main() -> tuple[object, object]:
        return await who(storedb_aconn), await who(storedb_app_aconn)

    assert asyncio.run(main()) == ((OWNER,), (APP_USER,))
