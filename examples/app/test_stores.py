"""An application's tests, written against storedb's fixtures only."""

from __future__ import annotations

import os

import psycopg

import storedb


def test_each_store_sees_only_its_own_products(storedb_app_conn, store_factory):
    acme, globex = store_factory(subdomain="acme"), store_factory(subdomain="globex")
    for shop in (acme, globex):
        with storedb.tenant_scope(storedb_app_conn, shop.id) as conn:
            conn.execute("insert into products (store_id, title, price) "
                         "values (get_current_store_id(), %s, 10)", (f"{shop.subdomain} mug",))
    with storedb.tenant_scope(storedb_app_conn, acme.id) as conn:
        titles = conn.execute("select title from products").fetchall()
    assert titles == [("acme mug",)]


def test_without_a_store_the_application_sees_nothing(storedb_app_conn, store_factory):
    store_factory()
    assert storedb_app_conn.execute("select count(*) from tenants").fetchone() == (0,)


def test_every_test_gets_a_fresh_database(storedb_conn):
    assert storedb_conn.execute("select count(*) from products").fetchone() == (0,)


def test_the_schema_is_owned_by_an_ordinary_role(storedb_conn):
    row = storedb_conn.execute("select current_user, rolsuper, rolbypassrls from pg_roles "
                               "where rolname = current_user").fetchone()
    assert row[1:] == (False, False)
    assert storedb.check(storedb_conn).ok


def test_the_app_reads_database_url(database_url):
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        assert conn.execute("select pg_has_role('storedb_app', 'member')").fetchone() == (True,)
