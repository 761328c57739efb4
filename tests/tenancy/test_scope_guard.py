"""Isolation cannot be silently off: roles that bypass RLS, unknown and deleted stores,
INSERTs without store_id, and row level security errors that explain themselves."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import ConnectionPool

import storedb


@pytest.fixture
def su(migrated_db: psycopg.Connection) -> psycopg.Connection:
    migrated_db.commit()
    return migrated_db


@pytest.fixture
def app(app_dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_dsn) as conn:
        yield conn


@pytest.fixture
def store(app: psycopg.Connection) -> storedb.Tenant:
    return storedb.create_tenant(app, subdomain="guard-a", name="Guard A")


def test_a_superuser_is_refused_by_the_scope_and_the_dao(su, store) -> None:
    with pytest.raises(storedb.IsolationError, match=r"superuser.*storedb_app.*allow_bypass"), \
            storedb.tenant_scope(su, store.id):
        pass
    for call in (lambda: storedb.get_tenant(su, id=store.id),
                 lambda: storedb.create_tenant(su, subdomain="guard-su", name="x"),
                 lambda: storedb.soft_delete_tenant(su, store.id)):
        with pytest.raises(storedb.IsolationError, match="superuser"):
            call()
    assert storedb.get_tenant(su, id=store.id, allow_bypass=True) == store
    with storedb.tenant_scope(su, store.id, allow_bypass=True) as conn:
        assert conn.execute("select get_current_store_id()").fetchone() == (store.id,)


def test_a_bypassrls_role_is_refused_through_a_pool(su, app_dsn, store) -> None:
    su.execute("create role guard_bypass login bypassrls in role storedb_app")
    su.commit()
    dsn = app_dsn.replace("user=app_user", "user=guard_bypass")
    with ConnectionPool(dsn, min_size=1, max_size=1, open=True) as pool:
        for _ in range(2):  # the second time from the per-connection cache
            with pytest.raises(storedb.IsolationError, match="BYPASSRLS"), \
                    storedb.tenant_scope(pool, store.id):
                pass
        with storedb.tenant_scope(pool, store.id, allow_bypass=True) as conn:
            assert conn.execute("select 1").fetchone() == (1,)


def test_set_role_to_a_superuser_is_noticed(su, store) -> None:
    su.execute("create role guard_member login in role storedb_app")
    su.execute("set role guard_member")
    with storedb.tenant_scope(su, store.id) as conn:  # now subject to RLS: allowed
        assert conn.execute("select current_user").fetchone() == ("guard_member",)
    su.execute("reset role")
    with pytest.raises(storedb.IsolationError), storedb.tenant_scope(su, store.id):
        pass


def test_unknown_and_deleted_stores_are_refused(app, store) -> None:
    with pytest.raises(storedb.TenantNotFound, match="no store with id"), \
            storedb.tenant_scope(app, uuid.uuid4()):
        pass
    storedb.soft_delete_tenant(app, store.id)
    with pytest.raises(storedb.TenantAlreadyDeleted, match="allow_deleted"), \
            storedb.tenant_scope(app, store.id):
        pass
    with storedb.tenant_scope(app, store.id, allow_deleted=True) as conn:
        assert conn.execute("select get_current_store_id()").fetchone() == (store.id,)
    assert app.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_an_insert_without_store_id_gets_the_scopes_store(app, store) -> None:
    with storedb.tenant_scope(app, store.id) as conn:
        row = conn.execute("insert into products (title, handle) values ('Cup', 'cup') "
                           "returning store_id").fetchone()
    assert row == (store.id,)


def test_every_tenant_table_defaults_store_id_to_the_scope(su) -> None:
    missing = su.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "join pg_attribute a on a.attrelid = c.oid and a.attname = 'store_id' "
        "where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition "
        "and pg_get_expr((select adbin from pg_attrdef d where d.adrelid = c.oid "
        "and d.adnum = a.attnum), c.oid) is distinct from 'get_current_store_id()'").fetchall()
    assert missing == []


def test_a_row_of_another_store_names_the_policy_and_the_fix(app, store) -> None:
    other = storedb.create_tenant(app, subdomain="guard-b", name="Guard B")
    with pytest.raises(storedb.RowSecurityViolation) as caught, \
            storedb.tenant_scope(app, store.id) as conn:
        conn.execute("insert into products (store_id, title, handle) values (%s, 'x', 'x')",
                     (other.id,))
    message = str(caught.value)
    assert "products_store_isolation" in message and str(store.id) in message
    assert "leave store_id out" in message
    assert caught.value.table == "products"
    assert isinstance(caught.value.__cause__, psycopg.errors.InsufficientPrivilege)
    assert app.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # rolled back
