"""The tenant DAO (storedb.create_tenant / get_tenant / soft_delete_tenant) on real PostgreSQL.

Everything runs as the non-superuser owner or as ``app_user`` (a member of
storedb_app): the SECURITY DEFINER platform functions must work for them, and
RLS applies to both.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg_pool import ConnectionPool

import storedb
from tests.helpers import tables

pytestmark = pytest.mark.matrix  # also on PostgreSQL 14-18: make test-matrix

BUSINESS_TABLES = ("tenants", "store_configs", "tenant_settings", "tenant_domains", "products",
                   "orders", "order_line_items", "users", "user_preferences")


@pytest.fixture
def owner(owner_dsn: str):
    with psycopg.connect(owner_dsn) as conn:
        yield conn


@pytest.fixture
def app(app_dsn: str):
    with psycopg.connect(app_dsn) as conn:
        yield conn


def superuser_count(su: psycopg.Connection, table: str, store_id: object) -> int:
    column = "id" if table == "tenants" else "store_id"
    row = su.execute(f"select count(*) from {table} where {column} = %s", (store_id,)).fetchone()
    assert row is not None
    return int(row[0])


# --------------------------------------------------------------------------- create


def test_create_tenant_returns_the_live_store_with_config_and_settings(owner, migrated_db):
    tenant = storedb.create_tenant(owner, subdomain="acme", name="Acme Goods")

    assert isinstance(tenant, storedb.Tenant)
    assert isinstance(tenant.id, uuid.UUID)
    assert (tenant.subdomain, tenant.name, tenant.status) == ("acme", "Acme Goods", "active")
    assert (tenant.subscription_plan, tenant.subscription_status) == ("free", "active")
    assert tenant.deleted_at is None and not tenant.deleted
    # one call made the 1:1 rows too (seen by the superuser, outside RLS)
    assert superuser_count(migrated_db, "store_configs", tenant.id) == 1
    assert superuser_count(migrated_db, "tenant_settings", tenant.id) == 1
    # committed: a different session finds it
    assert storedb.get_tenant(owner, subdomain="acme") == tenant


def test_create_tenant_as_app_role_with_options(app, migrated_db):
    tenant = storedb.create_tenant(app, subdomain="kaffe-hus", name="Kaffe Hus", plan="growth",
                                   locale="sv-SE", timezone="Europe/Stockholm",
                                   currency_code="sek")
    assert (tenant.subscription_plan, tenant.subscription_status) == ("growth", "trialing")
    row = migrated_db.execute(
        "select locale, timezone, currency_code from tenant_settings where store_id = %s",
        (tenant.id,)).fetchone()
    assert row == ("sv-SE", "Europe/Stockholm", "SEK")


def test_taken_subdomain_raises_subdomain_taken_and_keeps_the_first(owner, migrated_db):
    first = storedb.create_tenant(owner, subdomain="taken", name="First")
    with pytest.raises(storedb.SubdomainTaken) as info:
        storedb.create_tenant(owner, subdomain="taken", name="Second")
    message = str(info.value)
    assert "taken" in message and "choose another" in message
    assert isinstance(info.value, storedb.TenantError)
    assert migrated_db.execute("select count(*), min(name) from tenants").fetchone() == (1, "First")
    assert storedb.get_tenant(owner, subdomain="taken") == first
    # the connection is usable afterwards (the failed transaction was rolled back)
    assert storedb.create_tenant(owner, subdomain="taken-2", name="Second").subdomain == "taken-2"


INVALID_SUBDOMAINS = [
    "Acme",              # upper case is rejected, not silently lowered
    "ACME",
    "-acme",             # leading hyphen
    "acme-",             # trailing hyphen
    "a" * 64,            # longer than a DNS label
    "",                  # empty
    "shop.acme",         # dots
    "acme store",        # space
    " acme",             # blanks are not trimmed silently either
    "acmé",              # non-ASCII
    "x'); drop table tenants; --",
]


def test_invalid_subdomain_raises_invalid_subdomain(owner, migrated_db, owner_dsn):
    messages = {}
    for subdomain in INVALID_SUBDOMAINS:
        with pytest.raises(storedb.InvalidSubdomain) as info:
            storedb.create_tenant(owner, subdomain=subdomain, name="Nope")
        messages[subdomain] = str(info.value)
    for subdomain, message in messages.items():
        assert repr(subdomain) in message
        assert "not a valid DNS label" in message
        assert "lower-case letters, digits and hyphens" in message  # says what to do
    assert migrated_db.execute("select count(*) from tenants").fetchone() == (0,)
    assert {"tenants", "products", "orders"} <= tables(owner_dsn)


def test_longest_valid_subdomain_is_accepted(owner):
    assert storedb.create_tenant(owner, subdomain="a" * 63, name="Long").subdomain == "a" * 63


def test_reserved_subdomain_raises_invalid_subdomain(owner, migrated_db):
    for subdomain in ("www", "api", "admin"):
        with pytest.raises(storedb.InvalidSubdomain) as info:
            storedb.create_tenant(owner, subdomain=subdomain, name="Platform")
        assert "reserved" in str(info.value) and "choose another" in str(info.value)
    assert migrated_db.execute("select count(*) from tenants").fetchone() == (0,)
    # a reserved word inside a longer label is fine
    assert storedb.create_tenant(owner, subdomain="www-shop", name="Shop").subdomain == "www-shop"


def test_injection_shaped_name_is_stored_verbatim(owner, owner_dsn, migrated_db):
    name = "x'); drop table tenants; --"
    tenant = storedb.create_tenant(owner, subdomain="bobby", name=name)
    assert tenant.name == name
    assert migrated_db.execute("select name from tenants where id = %s",
                               (tenant.id,)).fetchone() == (name,)
    assert {"tenants", "store_configs", "tenant_settings"} <= tables(owner_dsn)


def test_create_and_get_through_a_connection_pool(app_dsn, migrated_db):
    with ConnectionPool(app_dsn, min_size=1, max_size=2, open=True) as pool:
        tenant = storedb.create_tenant(pool, subdomain="pooled", name="Pooled Store")
        assert storedb.get_tenant(pool, id=tenant.id) == tenant
        assert storedb.get_tenant(pool, subdomain="pooled") == tenant
        with pytest.raises(storedb.SubdomainTaken):
            storedb.create_tenant(pool, subdomain="pooled", name="Again")
        with pytest.raises(storedb.InvalidSubdomain):
            storedb.create_tenant(pool, subdomain="Bad-", name="Bad")
        deleted = storedb.soft_delete_tenant(pool, tenant.id)
        assert deleted.deleted
        # every connection went back to the pool idle, without a store set
        with pool.connection() as conn:
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            assert conn.execute("select get_current_store_id()").fetchone() == (None,)
    assert migrated_db.execute("select count(*) from tenants").fetchone() == (1,)


# --------------------------------------------------------------------------- get


def test_get_tenant_by_id_and_subdomain(app):
    a = storedb.create_tenant(app, subdomain="alpha", name="Alpha")
    b = storedb.create_tenant(app, subdomain="beta", name="Beta")

    assert storedb.get_tenant(app, id=a.id) == a
    assert storedb.get_tenant(app, id=str(b.id)) == b
    assert storedb.get_tenant(app, subdomain="beta") == b
    assert storedb.get_tenant(app, subdomain="gamma") is None
    assert storedb.get_tenant(app, id=uuid.uuid4()) is None
    with pytest.raises(TypeError):
        storedb.get_tenant(app)
    with pytest.raises(TypeError):
        storedb.get_tenant(app, id=a.id, subdomain="alpha")


def test_get_tenant_by_subdomain_matches_only_the_subdomain(app, migrated_db):
    """A subdomain lookup must not answer with a store found by a custom domain or host."""
    a = storedb.create_tenant(app, subdomain="alpha", name="Alpha")
    migrated_db.execute("insert into tenant_domains (store_id, domain, verified_at) "
                        "values (%s, 'shop.example.com', now())", (a.id,))
    migrated_db.commit()
    assert storedb.get_tenant(app, subdomain="shop.example.com") is None
    assert storedb.get_tenant(app, subdomain="alpha.example.com") is None
    assert storedb.get_tenant(app, subdomain="alpha") == a
    assert storedb.get_tenant(app, subdomain="Alpha") == a  # a lookup, like a host name


def test_get_tenant_leaves_the_callers_store_in_place(app):
    a = storedb.create_tenant(app, subdomain="alpha", name="Alpha")
    b = storedb.create_tenant(app, subdomain="beta", name="Beta")
    with storedb.tenant_scope(app, a.id) as conn:
        assert storedb.get_tenant(conn, id=b.id) == b
        assert conn.execute("select get_current_store_id()").fetchone() == (a.id,)
        assert conn.execute("select subdomain from tenants").fetchall() == [("alpha",)]


# --------------------------------------------------------------------------- soft delete


def test_soft_delete_marks_the_tenant_and_releases_the_subdomain(app, migrated_db):
    tenant = storedb.create_tenant(app, subdomain="closing", name="Closing Down")
    deleted = storedb.soft_delete_tenant(app, tenant.id)

    assert deleted.id == tenant.id
    assert deleted.deleted_at is not None and deleted.deleted
    assert deleted.status == "archived"
    assert storedb.get_tenant(app, id=tenant.id) == deleted   # still found by id
    assert storedb.get_tenant(app, subdomain="closing") is None  # but no longer live
    # every row is kept
    assert superuser_count(migrated_db, "tenants", tenant.id) == 1
    assert superuser_count(migrated_db, "store_configs", tenant.id) == 1
    assert superuser_count(migrated_db, "tenant_settings", tenant.id) == 1
    # the subdomain can be used by a new store
    again = storedb.create_tenant(app, subdomain="closing", name="New Owner")
    assert again.id != tenant.id


def test_soft_delete_unknown_tenant_raises_tenant_not_found(app):
    missing = uuid.uuid4()
    with pytest.raises(storedb.TenantNotFound) as info:
        storedb.soft_delete_tenant(app, missing)
    assert not isinstance(info.value, storedb.TenantAlreadyDeleted)
    assert str(missing) in str(info.value) and "check the id" in str(info.value)


def test_soft_delete_twice_raises_tenant_already_deleted(app, migrated_db):
    tenant = storedb.create_tenant(app, subdomain="twice", name="Twice")
    first = storedb.soft_delete_tenant(app, tenant.id)
    with pytest.raises(storedb.TenantAlreadyDeleted) as info:
        storedb.soft_delete_tenant(app, tenant.id)
    assert str(tenant.id) in str(info.value) and "already deleted" in str(info.value)
    assert "nothing was changed" in str(info.value)
    assert storedb.get_tenant(app, id=tenant.id) == first  # deleted_at not moved


def test_soft_delete_from_another_stores_scope_is_refused(app, migrated_db):
    """Another store's id is "not found", exactly like an unknown id (no oracle)."""
    a = storedb.create_tenant(app, subdomain="alpha", name="Alpha")
    b = storedb.create_tenant(app, subdomain="beta", name="Beta")
    with pytest.raises(psycopg.errors.NoDataFound) as info, \
            storedb.tenant_scope(app, a.id) as conn:
        conn.execute("select soft_delete_tenant(%s)", (b.id,))
    assert info.value.diag.message_primary == f"tenant {b.id} not found"
    assert str(a.id) not in str(info.value)
    assert migrated_db.execute("select deleted_at from tenants where id = %s",
                               (b.id,)).fetchone() == (None,)
