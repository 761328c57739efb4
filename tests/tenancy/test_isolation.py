"""Tenant isolation (RLS) as the application sees it: ``app_user``, never the owner.

The demo seed gives every tenant table rows of two stores, A and B; each test
asserts that A's rows are there (so an empty result proves a filter, not an
empty table) and that none of B's rows can be read, written or moved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

import storedb
from storedb import seed as load_seed

pytestmark = pytest.mark.matrix  # also on PostgreSQL 14-18: make test-matrix

STORE_A = uuid.UUID("5eed0001-0000-4000-8000-000000000000")
STORE_B = uuid.UUID("5eed0002-0000-4000-8000-000000000000")

# what the catalog must at least yield: a new tenant table is picked up automatically
KNOWN_TENANT_TABLES = {"tenants", "store_configs", "tenant_domains", "tenant_settings",
                       "products", "orders", "order_line_items", "order_display_id_counters",
                       "audit_log", "users", "user_preferences"}

TENANT_TABLES_SQL = """
select c.relname
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
  and (c.relname = 'tenants' or exists (
        select from pg_attribute a
        where a.attrelid = c.oid and a.attname = 'store_id' and not a.attisdropped))
order by 1
"""


def key(table: str) -> str:
    return "id" if table == "tenants" else "store_id"


def has_privilege(su: psycopg.Connection, table: str, privilege: str) -> bool:
    row = su.execute("select has_table_privilege('app_user', %s, %s)",
                     (f"public.{table}", privilege)).fetchone()
    return bool(row and row[0])


def digests(su: psycopg.Connection, tables: list[str], store: uuid.UUID) -> dict[str, str]:
    out = {}
    for t in tables:
        row = su.execute(f"select md5(string_agg(t::text, ',' order by t::text)) from {t} t "
                         f"where {key(t)} = %s", (store,)).fetchone()
        assert row is not None and row[0] is not None, f"{t} has no row of store {store}"
        out[t] = row[0]
    return out


@pytest.fixture
def su(migrated_db: psycopg.Connection) -> psycopg.Connection:
    migrated_db.commit()
    return migrated_db


@pytest.fixture
def seeded(su: psycopg.Connection, owner_dsn: str) -> list[str]:
    """The demo seed (stores A and B among them); returns every tenant table."""
    load_seed(owner_dsn, force=True)
    found = [r[0] for r in su.execute(TENANT_TABLES_SQL)]
    assert set(found) >= KNOWN_TENANT_TABLES
    digests(su, found, STORE_A)  # asserts: every table has rows of A ...
    digests(su, found, STORE_B)  # ... and of B
    return found


@pytest.fixture
def app(app_dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_dsn) as conn:
        assert conn.execute("select current_user").fetchone() == ("app_user",)
        yield conn


# --------------------------------------------------------------------------- reads


def test_store_a_reads_only_its_own_rows_in_every_tenant_table(seeded, app):
    seen = {}
    with storedb.tenant_scope(app, STORE_A) as conn:
        for table in seeded:
            seen[table] = conn.execute(
                f"select count(*) filter (where {key(table)} = %s), "
                f"count(*) filter (where {key(table)} is distinct from %s) from {table}",
                (STORE_A, STORE_A)).fetchone()
            # asking for B by id explicitly does not help either
            assert conn.execute(f"select count(*) from {table} where {key(table)} = %s",
                                (STORE_B,)).fetchone() == (0,), table
    assert {t: (own > 0, other) for t, (own, other) in seen.items()} == {
        t: (True, 0) for t in seeded}


def test_without_a_store_every_tenant_table_reads_empty(seeded, app):
    counts = {t: app.execute(f"select count(*) from {t}").fetchone()[0] for t in seeded}
    assert counts == dict.fromkeys(seeded, 0)
    assert app.execute("select get_current_store_id()").fetchone() == (None,)
    app.rollback()


def test_without_a_store_writes_are_refused(seeded, app):
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
        app.execute("insert into products (store_id, title) values (%s, 'Sneaky')", (STORE_A,))
    assert "row-level security" in str(info.value)
    app.rollback()
    assert app.execute("update products set title = 'x'").rowcount == 0
    assert app.execute("delete from products").rowcount == 0  # issue 16: orders: no delete
    app.commit()


def test_after_commit_the_next_transaction_sees_nothing(seeded, app):
    with storedb.tenant_scope(app, STORE_A) as conn:
        assert conn.execute("select count(*) from products").fetchone()[0] > 0
    # same connection, new transaction: no store, no error
    assert app.execute("select get_current_store_id()").fetchone() == (None,)
    assert {t: app.execute(f"select count(*) from {t}").fetchone()[0] for t in seeded} == \
        dict.fromkeys(seeded, 0)
    app.rollback()
    # also after a scope that ended with an exception (rolled back)
    with pytest.raises(ZeroDivisionError), storedb.tenant_scope(app, STORE_A) as conn:
        conn.execute("update products set title = 'changed'")
        raise ZeroDivisionError
    assert app.execute("select count(*) from products").fetchone() == (0,)
    app.rollback()
    with storedb.tenant_scope(app, STORE_A) as conn:
        assert conn.execute("select count(*) from products where title = 'changed'"
                            ).fetchone() == (0,)


def test_table_owner_is_filtered_too(seeded, owner_dsn):
    """FORCE ROW LEVEL SECURITY: storedb_owner, a non-superuser, does not bypass RLS."""
    with psycopg.connect(owner_dsn) as owner:
        assert owner.execute("select rolsuper, rolbypassrls from pg_roles "
                             "where rolname = current_user").fetchone() == (False, False)
        assert {t: owner.execute(f"select count(*) from {t}").fetchone()[0]
                for t in seeded} == dict.fromkeys(seeded, 0)
        owner.rollback()
        with storedb.tenant_scope(owner, STORE_A) as conn:
            for table in seeded:
                other = conn.execute(f"select count(*) from {table} where {key(table)} <> %s",
                                     (STORE_A,)).fetchone()
                assert other == (0,), table


# --------------------------------------------------------------------------- writes


def test_insert_with_another_stores_id_is_refused(seeded, su, app):
    before = digests(su, seeded, STORE_B)
    outcome = {}
    for table in seeded:
        row = su.execute(f"select to_jsonb(t) from {table} t where {key(table)} = %s limit 1",
                         (STORE_A,)).fetchone()[0]
        row[key(table)] = str(STORE_B)
        if "id" in row and table != "tenants" and table != "audit_log":
            row["id"] = str(uuid.uuid4())
        columns = [r[0] for r in su.execute(
            "select quote_ident(attname) from pg_attribute where attrelid = %s::regclass "
            "and attnum > 0 and not attisdropped and attgenerated = '' and attidentity <> 'a' "
            "order by attnum", (table,))]
        cols = ", ".join(columns)
        with storedb.tenant_scope(app, STORE_A) as conn:
            try:
                with conn.transaction():
                    conn.execute(f"insert into {table} ({cols}) select {cols} "
                                 f"from jsonb_populate_record(null::{table}, %s)", (Jsonb(row),))
                outcome[table] = "inserted"
            except psycopg.Error as exc:
                outcome[table] = exc.sqlstate
                if has_privilege(su, table, "insert"):
                    assert "row-level security" in str(exc), (table, str(exc))
    assert outcome == dict.fromkeys(seeded, "42501")
    assert digests(su, seeded, STORE_B) == before


def test_update_moving_a_row_to_another_store_is_refused(seeded, su, app):
    before = digests(su, seeded, STORE_B)
    outcome = {}
    for table in seeded:
        with storedb.tenant_scope(app, STORE_A) as conn:
            if has_privilege(su, table, "update"):
                # control: the store can update its own rows
                assert conn.execute(f"update {table} set {key(table)} = {key(table)}"
                                    ).rowcount > 0, table
            try:
                with conn.transaction():
                    conn.execute(f"update {table} set {key(table)} = %s", (STORE_B,))
                outcome[table] = "moved"
            except psycopg.Error as exc:
                outcome[table] = exc.sqlstate
    assert outcome == dict.fromkeys(seeded, "42501")
    assert digests(su, seeded, STORE_B) == before


# UPDATE on tenants, orders (issue 16) and tenant_domains is per column: use one the app has
UPDATABLE = {"tenants": "name", "orders": "notes", "tenant_domains": "is_primary"}


def test_update_and_delete_aimed_at_another_store_touch_nothing(seeded, su, app):
    before = digests(su, seeded, STORE_B)
    touched = {}
    for table in seeded:
        col = UPDATABLE.get(table, key(table))
        for verb, sql in (("update", f"update {table} set {col} = {col} "
                                     f"where {key(table)} = %s"),
                          ("delete", f"delete from {table} where {key(table)} = %s")):
            with storedb.tenant_scope(app, STORE_A) as conn:
                allowed = su.execute("select has_any_column_privilege('app_user', %s, %s)",
                                     (f"public.{table}", verb)).fetchone()[0] \
                    if verb == "update" else has_privilege(su, table, verb)
                if allowed:
                    touched[(table, verb)] = conn.execute(sql, (STORE_B,)).rowcount
                else:  # audit_log is append-only; tenants, orders, line items, counters
                    # cannot be deleted by the app (issue 16), nor counters updated
                    with pytest.raises(psycopg.errors.InsufficientPrivilege), \
                            conn.transaction():
                        conn.execute(sql, (STORE_B,))
    assert touched and set(touched.values()) == {0}
    assert {t for t, _ in touched} >= KNOWN_TENANT_TABLES - {"audit_log",
                                                             "order_display_id_counters"}
    assert digests(su, seeded, STORE_B) == before


def test_two_stores_may_use_the_same_handle_and_email(seeded, app):
    for store in (STORE_A, STORE_B):
        with storedb.tenant_scope(app, store) as conn:
            conn.execute("insert into products (store_id, title, handle) "
                         "values (%s, 'Shared', 'shared-handle')", (store,))
            conn.execute("insert into users (store_id, email) values (%s, 'same@example.com')",
                         (store,))
    for store in (STORE_A, STORE_B):
        with storedb.tenant_scope(app, store) as conn:
            assert conn.execute("select store_id from products where handle = 'shared-handle'"
                                ).fetchall() == [(store,)]
            assert conn.execute("select store_id from users where email = 'same@example.com'"
                                ).fetchall() == [(store,)]
    # within one store they stay unique
    with pytest.raises(psycopg.errors.UniqueViolation) as info, \
            storedb.tenant_scope(app, STORE_A) as conn:
        conn.execute("insert into products (store_id, title, handle) "
                      "values (%s, 'Again', 'shared-handle')", (STORE_A,))
    assert info.value.diag.constraint_name == "products_store_id_handle_key"


# --------------------------------------------------------------------------- roles


def test_app_role_cannot_bypass_rls_and_owns_nothing(su, app):
    roles = su.execute(
        "select r.rolname, r.rolsuper, r.rolbypassrls from pg_roles r "
        "where pg_has_role('app_user', r.oid, 'member') order by 1").fetchall()
    assert ("storedb_app", False, False) in roles
    assert [r for r in roles if r[1] or r[2]] == []
    assert {r[0] for r in roles} == {"app_user", "storedb_app"}  # not owner, not definer
    owned = su.execute(
        "select c.relname from pg_class c join pg_roles r on r.oid = c.relowner "
        "where r.rolname in ('app_user', 'storedb_app') "
        "union all select p.proname from pg_proc p join pg_roles r on r.oid = p.proowner "
        "where r.rolname in ('app_user', 'storedb_app')").fetchall()
    assert owned == []
    assert app.execute("select current_setting('is_superuser')").fetchone() == ("off",)
    app.rollback()


def test_public_cannot_execute_security_definer_functions(su, app_dsn):
    definers = su.execute(
        "select p.oid::regprocedure::text, r.rolname, "
        "has_function_privilege('public', p.oid, 'execute'), "
        "has_function_privilege('storedb_app', p.oid, 'execute') "
        "from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
        "join pg_roles r on r.oid = p.proowner "
        "where n.nspname = 'public' and p.prosecdef order by 1").fetchall()
    assert {d[0].split("(")[0] for d in definers} == {
        "create_tenant", "soft_delete_tenant", "resolve_store_id", "audit_trigger",
        "search_products", "verify_tenant_domain",
        # issue 16
        "orders_assign_display_id", "erase_customer_pii", "tenants_record_deletion",
        "current_store_is_live", "tenants_release_domains", "restore_tenant",
        "orders_by_status", "orders_by_payment_status", "orders_by_fulfillment_status",
        "products_by_status", "validate_timezone", "audit_insert_rows"}
    # the app may call the platform functions; audit_trigger() only fires as a trigger and
    # verify_tenant_domain() is the platform's (a store must not verify its own domain);
    # restore_tenant() is the platform's too, and trigger functions need no EXECUTE
    not_for_app = ("audit_trigger()", "audit_insert_rows()", "verify_tenant_domain(text)",
                   "verify_tenant_domain(text,uuid)", "tenants_record_deletion()",
                   "tenants_release_domains()", "restore_tenant(uuid,text)")
    assert [(name, owner, public, app) for name, owner, public, app in definers
            if owner != "storedb_definer" or public
            or app != (name not in not_for_app)] == []

    outsider = f"outsider_{uuid.uuid4().hex[:8]}"
    su.commit()
    su.autocommit = True
    su.execute(f"create role {outsider} login")
    try:
        dsn = app_dsn.replace("user=app_user", f"user={outsider}")
        with psycopg.connect(dsn, autocommit=True) as conn:
            for call in ("select create_tenant('outside', 'Outside')",
                         f"select soft_delete_tenant('{STORE_A}')",
                         "select resolve_store_id('nordic-threads')",
                         "select * from search_products('mug')",
                         f"select set_current_store_id('{STORE_A}')"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
                    conn.execute(call)
                assert "permission denied for function" in str(info.value)
        assert su.execute("select count(*) from tenants").fetchone() == (0,)
    finally:
        su.execute(f"drop role {outsider}")


# --------------------------------------------------------------------------- audit


def test_app_cannot_write_audit_log_directly(seeded, su, app):
    app.commit()  # end the fixture's transaction: each scope below is a transaction of its own
    before = su.execute("select count(*) from audit_log").fetchone()
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as info, \
            storedb.tenant_scope(app, STORE_A) as conn:
        conn.execute("insert into audit_log (store_id, table_name, operation, row_key) "
                     "values (%s, 'products', 'delete', '{}')", (STORE_A,))
    assert info.value.sqlstate == "42501"
    assert "permission denied for table audit_log" in str(info.value)
    # nor through audit_trigger() on a table of its own (it has no EXECUTE on it)
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as info, \
            storedb.tenant_scope(app, STORE_A) as conn:
        conn.execute("create temporary table products (store_id uuid, id int primary key)")
        conn.execute("create trigger products_audit after insert on pg_temp.products "
                     "for each row execute function audit_trigger()")
    assert "permission denied for function audit_trigger" in str(info.value)
    assert su.execute("select count(*) from audit_log").fetchone() == before
    assert not has_privilege(su, "audit_log", "insert")
    assert has_privilege(su, "audit_log", "select")


def test_app_writes_are_still_audited_with_the_acting_role(seeded, su, app):
    assert su.execute("select has_function_privilege('app_user', 'audit_trigger()', 'execute')"
                      ).fetchone() == (False,)  # the triggers below fire without it
    app.commit()  # end the fixture's transaction: each scope below commits on its own
    with storedb.tenant_scope(app, STORE_A) as conn:
        pid = conn.execute("insert into products (store_id, title, price) "
                           "values (%s, 'Audited Mug', 900) returning id", (STORE_A,)
                           ).fetchone()[0]
        conn.execute("update products set price = 950 where id = %s", (pid,))
    with storedb.tenant_scope(app, STORE_A) as conn:
        conn.execute("set local role storedb_app")  # a pool acting as a group role
        conn.execute("update products set price = 990 where id = %s", (pid,))
    rows = su.execute(
        "select operation, store_id, new_row ->> 'price', db_user, db_session_user "
        "from audit_log where table_name = 'products' and row_key ->> 'id' = %s order by id",
        (str(pid),)).fetchall()
    # issue 16: an insert row holds the key only (the update rows keep the old values)
    assert rows == [("insert", STORE_A, None, "app_user", "app_user"),
                    ("update", STORE_A, "950", "app_user", "app_user"),
                    ("update", STORE_A, "990", "storedb_app", "app_user")]
    # and the store reads its own audit rows
    with storedb.tenant_scope(app, STORE_A) as conn:
        assert conn.execute("select count(*) from audit_log where row_key ->> 'id' = %s",
                            (str(pid),)).fetchone() == (3,)


# --------------------------------------------------------------------------- plans


def test_handle_lookup_as_app_uses_the_index(su, app):
    su.execute("select set_config('session_replication_role', 'replica', true)")  # no triggers
    su.execute("""
        insert into tenants (id, subdomain, name)
        select ('00000000-0000-4000-8000-' || lpad(s::text, 12, '0'))::uuid, 'bulk-' || s, 'Bulk'
        from generate_series(1, 20) s;
        insert into products (store_id, title, handle, currency_code)
        select ('00000000-0000-4000-8000-' || lpad((1 + i % 20)::text, 12, '0'))::uuid,
               'Product ' || i, 'product-' || i, 'USD'
        from generate_series(1, 20000) i;
    """)
    su.commit()
    su.execute("analyze tenants, products")
    su.commit()  # statistics become visible to other sessions at commit
    store = uuid.UUID("00000000-0000-4000-8000-000000000008")
    with storedb.tenant_scope(app, store) as conn:
        plan = "\n".join(r[0] for r in conn.execute(
            "explain select * from products where handle = %s and deleted_at is null",
            ("product-7",)))
        found = conn.execute("select handle from products where handle = %s "
                             "and deleted_at is null", ("product-7",)).fetchall()
    assert "products_store_id_handle_key" in plan, plan
    assert found == [("product-7",)]  # product 7 belongs to store 8 (1 + 7 % 20)


def test_title_search_as_app_uses_the_trigram_index(su, app):
    """search_products() (migration 005) searches one store through the trigram index.

    A plain ``title ilike`` by a role under RLS cannot use that index (ILIKE is
    not LEAKPROOF); the SECURITY DEFINER function applies the store itself.
    """
    su.execute("select set_config('session_replication_role', 'replica', true)")  # no triggers
    su.execute("""
        insert into tenants (id, subdomain, name)
        select ('00000000-0000-4000-8000-' || lpad(s::text, 12, '0'))::uuid, 'bulk-' || s, 'Bulk'
        from generate_series(1, 20) s;
        insert into products (store_id, title, handle, currency_code)
        select ('00000000-0000-4000-8000-' || lpad((1 + i % 20)::text, 12, '0'))::uuid,
               'Product ' || i || ' ' || (array['Linen', 'Wool', 'Cotton', 'Silk'])[1 + i % 4]
                 || case when i % 400 = 7 then ' Teapot' else '' end,
               'product-' || i, 'USD'
        from generate_series(1, 20000) i;
    """)
    su.commit()
    # the rows sit in the GIN pending list until (auto)vacuum merges them
    su.execute("select gin_clean_pending_list('products_title_trgm_idx')")
    su.execute("analyze tenants, products")
    su.commit()  # statistics become visible to other sessions at commit
    store = uuid.UUID("00000000-0000-4000-8000-000000000008")  # products 7, 407, ... 19607
    with storedb.tenant_scope(app, store) as conn:
        found = conn.execute("select title, store_id from search_products(%s)",
                             ("teapot",)).fetchall()
        assert conn.execute("select count(*) from search_products('Product')"
                            ).fetchone()[0] == 50  # the default limit
    assert len(found) == 50 and all(r[1] == store and "Teapot" in r[0] for r in found)
    # the plan inside the function, as auto_explain logs it (LOAD needs a superuser)
    plans: list[str] = []
    su.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
    su.execute("load 'auto_explain'")
    su.execute("select set_config('auto_explain.log_min_duration', '0', true), "
               "set_config('auto_explain.log_nested_statements', 'on', true), "
               "set_config('auto_explain.log_level', 'notice', true), "
               "set_current_store_id(%s)", (store,))
    su.execute("select count(*) from search_products('teapot')")
    su.rollback()
    inner = next(p for p in plans if "from public.products p" in p)
    assert "Index Scan on products_title_trgm_idx" in inner, inner
    with app.transaction():  # no store set: nothing, like the policy
        assert app.execute("select count(*) from search_products('teapot')").fetchone() == (0,)
    with storedb.tenant_scope(app, store) as conn:  # wildcards are literal
        assert conn.execute("select count(*) from search_products('%')").fetchone() == (0,)




# --------------------------------------------------------------------------- tenant_scope


def test_pooled_connection_carries_no_store_to_the_next_borrower(seeded, app_dsn):
    with ConnectionPool(app_dsn, min_size=1, max_size=1, open=True) as pool:
        with storedb.tenant_scope(pool, STORE_A) as conn:
            pid = conn.info.backend_pid
            assert conn.execute("select count(*) from products").fetchone()[0] > 0
        with pool.connection() as conn:
            assert conn.info.backend_pid == pid  # the very same connection
            assert conn.execute("select get_current_store_id()").fetchone() == (None,)
            assert conn.execute("select count(*) from products").fetchone() == (0,)
        with pytest.raises(RuntimeError), storedb.tenant_scope(pool, STORE_B):
            raise RuntimeError("request failed")
        with pool.connection() as conn:
            assert conn.info.backend_pid == pid
            assert conn.execute("select count(*) from orders").fetchone() == (0,)


def test_nested_scope_restores_the_outer_store(seeded, app):
    def current(conn: psycopg.Connection) -> object:
        return conn.execute("select get_current_store_id()").fetchone()[0]

    def stores(conn: psycopg.Connection) -> set[object]:
        return {r[0] for r in conn.execute("select distinct store_id from products")}

    app.execute("select set_current_store_id(%s)", (STORE_A,))  # the app's own transaction
    with storedb.tenant_scope(app, STORE_B) as conn:
        assert current(conn) == STORE_B and stores(conn) == {STORE_B}
    assert current(app) == STORE_A and stores(app) == {STORE_A}
    with pytest.raises(KeyError), storedb.tenant_scope(app, STORE_B):
        raise KeyError("inner failure")
    assert current(app) == STORE_A and stores(app) == {STORE_A}
    assert app.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS  # not committed
    app.commit()
    assert current(app) is None

    app.execute("select 1")  # open transaction without a store
    with storedb.tenant_scope(app, STORE_B) as conn:
        assert stores(conn) == {STORE_B}
    assert current(app) is None and stores(app) == set()
    app.rollback()
