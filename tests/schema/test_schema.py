"""The shipped schema (infra/db) on real PostgreSQL: keys, cascades, audit, numbering, indexes.

Rows are written by the superuser (``migrated_db``) where a test is about a
constraint rather than about RLS: the superuser bypasses RLS, so only the
constraint itself can stop a bad row.
"""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

import storedb

# every table holding a store's business data (audit_log and the counter are derived)
DATA_TABLES = ("store_configs", "tenant_settings", "tenant_domains", "products", "orders",
               "order_line_items", "users", "user_preferences")


def new_store(su: psycopg.Connection, subdomain: str) -> uuid.UUID:
    store = storedb.create_tenant(su, subdomain=subdomain, name=subdomain.title(),
                                   allow_bypass=True)
    return store.id


def fill_store(su: psycopg.Connection, store_id: uuid.UUID, tag: str) -> None:
    """One row in every tenant table of the store (config and settings exist already)."""
    su.execute(
        """
        with d as (insert into tenant_domains (store_id, domain, verified_at)
                   values (%(s)s, %(tag)s || '.example.com', now())),
             p as (insert into products (store_id, title, price, currency_code)
                   values (%(s)s, 'Mug ' || %(tag)s, 1200, 'EUR') returning id),
             o as (insert into orders (store_id, currency_code, subtotal, total)
                   values (%(s)s, 'EUR', 2400, 2400) returning id),
             u as (insert into users (store_id, email) values (%(s)s, 'owner@' || %(tag)s || '.io')
                   returning id),
             up as (insert into user_preferences (store_id, user_id) select %(s)s, id from u)
        insert into order_line_items (store_id, order_id, product_id, title, quantity,
                                      unit_price, currency_code)
        select %(s)s, o.id, p.id, 'Mug', 2, 1200, 'EUR' from o, p
        """, {"s": store_id, "tag": tag})
    su.commit()


def count(su: psycopg.Connection, table: str, store_id: uuid.UUID) -> int:
    column = "id" if table == "tenants" else "store_id"
    row = su.execute(f"select count(*) from {table} where {column} = %s", (store_id,)).fetchone()
    assert row is not None
    return int(row[0])


def table_digest(su: psycopg.Connection, table: str, store_id: uuid.UUID) -> str | None:
    column = "id" if table == "tenants" else "store_id"
    row = su.execute(f"select md5(string_agg(t::text, ',' order by t::text)) from {table} t "
                     f"where {column} = %s", (store_id,)).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def su(migrated_db: psycopg.Connection) -> psycopg.Connection:
    migrated_db.commit()
    return migrated_db


@pytest.fixture
def two_stores(su: psycopg.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    a, b = new_store(su, "store-a"), new_store(su, "store-b")
    fill_store(su, a, "a")
    fill_store(su, b, "b")
    return a, b


# --------------------------------------------------------------------------- keys


def test_second_store_config_row_is_rejected_by_unique(su):
    store = new_store(su, "solo")
    with pytest.raises(psycopg.errors.UniqueViolation) as info:
        su.execute("insert into store_configs (store_id) values (%s)", (store,))
    assert info.value.diag.constraint_name == "store_configs_store_id_key"
    assert "store_configs_store_id_key" in str(info.value)
    su.rollback()
    assert count(su, "store_configs", store) == 1


def test_line_item_cannot_point_at_another_stores_product(su, two_stores):
    a, b = two_stores
    order_a = su.execute("select id from orders where store_id = %s", (a,)).fetchone()[0]
    product_b = su.execute("select id from products where store_id = %s", (b,)).fetchone()[0]
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as info:
        su.execute("insert into order_line_items (store_id, order_id, product_id, title, "
                   "quantity, unit_price, currency_code) values (%s, %s, %s, 'x', 1, 1, 'EUR')",
                   (a, order_a, product_b))
    assert info.value.diag.constraint_name == "order_line_items_store_id_product_id_fkey"
    su.rollback()


def test_line_item_cannot_point_at_another_stores_order(su, two_stores):
    a, b = two_stores
    order_b = su.execute("select id from orders where store_id = %s", (b,)).fetchone()[0]
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as info:
        su.execute("insert into order_line_items (store_id, order_id, title, quantity, "
                   "unit_price, currency_code) values (%s, %s, 'x', 1, 1, 'EUR')", (a, order_b))
    assert info.value.diag.constraint_name == "order_line_items_store_id_order_id_fkey"
    su.rollback()
    # moving an existing line of A onto B's order is refused the same way
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        su.execute("update order_line_items set order_id = %s where store_id = %s", (order_b, a))
    su.rollback()


def test_preferences_cannot_point_at_another_stores_user(su, two_stores):
    a, b = two_stores
    user_b = su.execute("select id from users where store_id = %s", (b,)).fetchone()[0]
    su.execute("delete from user_preferences where store_id = %s", (a,))
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as info:
        su.execute("insert into user_preferences (store_id, user_id) values (%s, %s)", (a, user_b))
    assert info.value.diag.constraint_name == "user_preferences_store_id_user_id_fkey"
    su.rollback()


# --------------------------------------------------------------------------- deletes


def test_hard_delete_of_a_tenant_cascades_to_all_its_rows_only(su, owner_dsn, two_stores):
    a, b = two_stores
    for table in (*DATA_TABLES, "audit_log", "order_display_id_counters"):
        assert count(su, table, a) >= 1, table
    before_b = {t: table_digest(su, t, b)
                for t in ("tenants", *DATA_TABLES, "audit_log", "order_display_id_counters")}

    # the owner deletes it the documented way: with the store set (FORCE RLS applies to it)
    with psycopg.connect(owner_dsn) as owner, storedb.tenant_scope(owner, a) as conn:
        assert conn.execute("delete from tenants where id = %s", (a,)).rowcount == 1

    for table in ("tenants", *DATA_TABLES, "order_display_id_counters"):
        assert count(su, table, a) == 0, table
    # issue 16: the history outlives the tenant (retention or offboarding remove it) and the
    # deletion itself leaves a platform-level trace
    assert count(su, "audit_log", a) >= 1
    assert su.execute("select count(*) from tenant_deletions where tenant_id = %s",
                      (a,)).fetchone() == (1,)
    after_b = {t: table_digest(su, t, b) for t in before_b}
    assert after_b == before_b
    assert all(after_b.values())


def test_soft_delete_keeps_every_row(su, two_stores):
    a, _ = two_stores
    tables = ("tenants", *DATA_TABLES, "order_display_id_counters")
    # issue 16: tenant_domains lose their verification (released), so they are compared apart
    before = {t: table_digest(su, t, a) for t in tables if t not in ("tenants", "tenant_domains")}
    domains = count(su, "tenant_domains", a)
    audit_before = count(su, "audit_log", a)

    storedb.soft_delete_tenant(su, a, allow_bypass=True)

    assert {t: table_digest(su, t, a) for t in before} == before
    assert count(su, "tenant_domains", a) == domains
    assert su.execute("select status::text, deleted_at is not null from tenants where id = %s",
                      (a,)).fetchone() == ("archived", True)
    # the tenants update, plus one per custom domain released; nothing deleted
    assert count(su, "audit_log", a) == audit_before + 1 + su.execute(
        "select count(*) from audit_log where store_id = %s and table_name = 'tenant_domains' "
        "and operation = 'update' and changed_columns = '{verified_at}'", (a,)).fetchone()[0]


# --------------------------------------------------------------------------- audit


def test_audit_log_records_insert_update_delete_with_values(su):
    store = new_store(su, "audited")
    pid = su.execute("insert into products (store_id, title, price, currency_code) "
                     "values (%s, 'Teapot', 3000, 'EUR') returning id", (store,)).fetchone()[0]
    su.execute("update products set price = 3500 where store_id = %s and id = %s", (store, pid))
    su.execute("update products set price = 3500 where store_id = %s and id = %s", (store, pid))
    su.execute("update products set price = price, title = title where id = %s", (pid,))
    su.execute("delete from products where store_id = %s and id = %s", (store, pid))
    su.commit()

    rows = su.execute(
        "select operation, store_id, row_key, old_row, new_row, changed_columns "
        "from audit_log where table_name = 'products' order by id").fetchall()
    assert [r[0] for r in rows] == ["insert", "update", "delete"]  # no row for no-op updates
    ins, upd, dele = rows
    assert all(r[1] == store for r in rows)
    assert ins[2] == {"store_id": str(store), "id": str(pid)}
    # issue 16: an insert records the key only (the values are the row; updates keep old values)
    assert ins[3] is None and ins[4] is None
    assert upd[3]["price"] == 3000 and upd[4]["price"] == 3500
    assert "price" in upd[5] and "title" not in upd[5]
    assert upd[5] == sorted(upd[5])
    assert dele[3]["price"] == 3500 and dele[4] is None and dele[5] is None


def test_no_op_update_keeps_updated_at(su):
    store = new_store(su, "quiet")
    su.execute("update store_configs set config = config where store_id = %s", (store,))
    su.commit()
    before = su.execute("select updated_at from store_configs where store_id = %s",
                        (store,)).fetchone()
    su.execute("update store_configs set config = '{}' where store_id = %s", (store,))
    su.commit()
    assert su.execute("select updated_at from store_configs where store_id = %s",
                      (store,)).fetchone() == before
    assert su.execute("select count(*) from audit_log where table_name = 'store_configs' "
                      "and operation = 'update'").fetchone() == (0,)
    su.execute("update store_configs set config = '{\"a\": 1}' where store_id = %s", (store,))
    su.commit()
    row = su.execute("select changed_columns from audit_log where table_name = 'store_configs' "
                     "and operation = 'update'").fetchone()
    assert row == (["config"],)  # issue 16: updated_at (= audit_log.at) is left out


# --------------------------------------------------------------------------- display_id


def test_concurrent_orders_get_consecutive_display_ids_per_store(su, app_dsn):
    a, b = new_store(su, "busy"), new_store(su, "quiet")
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def place_orders() -> None:
        try:
            with psycopg.connect(app_dsn) as conn:
                barrier.wait(timeout=10)
                for _ in range(per_thread):
                    with storedb.tenant_scope(conn, a) as c:
                        c.execute("insert into orders (store_id, currency_code) "
                                  "values (%s, 'USD')", (a,))
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=place_orders) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not errors, errors

    ids = [r[0] for r in su.execute(
        "select display_id from orders where store_id = %s order by display_id", (a,))]
    assert ids == list(range(1, threads * per_thread + 1))  # no duplicate, no gap

    with psycopg.connect(app_dsn) as conn, storedb.tenant_scope(conn, b) as c:
        got = [c.execute("insert into orders (store_id, currency_code) values (%s, 'USD') "
                         "returning display_id", (b,)).fetchone()[0] for _ in range(3)]
    assert got == [1, 2, 3]


def test_explicit_display_id_raises_the_counter(su):
    store = new_store(su, "imports")
    su.execute("insert into orders (store_id, currency_code, display_id) values (%s, 'USD', 41)",
               (store,))
    nxt = su.execute("insert into orders (store_id, currency_code) values (%s, 'USD') "
                     "returning display_id", (store,)).fetchone()
    assert nxt == (42,)
    su.rollback()


# --------------------------------------------------------------------------- indexes


def plan_of(conn: psycopg.Connection, sql: str, params: tuple[object, ...]) -> str:
    rows = conn.execute("explain " + sql, params).fetchall()
    return "\n".join(r[0] for r in rows)


def test_store_pages_use_their_indexes(su):
    # bulk rows: triggers (audit, numbering) off for this transaction
    su.execute("select set_config('session_replication_role', 'replica', true)")
    su.execute("""
        insert into tenants (id, subdomain, name)
        select ('00000000-0000-4000-8000-' || lpad(s::text, 12, '0'))::uuid, 'bulk-' || s, 'Bulk'
        from generate_series(1, 20) s;
        insert into products (store_id, title, handle, currency_code, created_at)
        select ('00000000-0000-4000-8000-' || lpad((1 + i % 20)::text, 12, '0'))::uuid,
               'Product ' || i, 'product-' || i, 'USD', now() - i * interval '1 minute'
        from generate_series(1, 20000) i;
        insert into orders (store_id, display_id, currency_code, placed_at)
        select ('00000000-0000-4000-8000-' || lpad((1 + i % 20)::text, 12, '0'))::uuid,
               i, 'USD', now() - i * interval '1 minute'
        from generate_series(1, 20000) i;
    """)
    su.commit()
    su.execute("analyze tenants, products, orders")
    store = uuid.UUID("00000000-0000-4000-8000-000000000007")

    recent = plan_of(su, "select id, display_id, total from orders where store_id = %s "
                         "order by placed_at desc limit 25", (store,))
    assert "orders_store_id_placed_at_idx" in recent, recent
    by_handle = plan_of(su, "select * from products where store_id = %s and handle = %s "
                            "and deleted_at is null", (store, "product-7"))
    assert "products_store_id_handle_key" in by_handle, by_handle
    newest = plan_of(su, "select id from products where store_id = %s "
                         "order by created_at desc limit 50", (store,))
    assert "products_store_id_created_at_idx" in newest, newest


def test_gin_indexes_lead_with_store_id_and_match_store_and_search_together(su):
    """btree_gin: one GIN scan matches store_id and title trigrams at once.

    (products_tags_idx was dropped by 008: under RLS its GIN part is never usable.)

    As a role that bypasses RLS (here the superuser; in production the
    storedb_definer functions): for the app's RLS-filtered queries see
    test_isolation.test_title_search_as_app_uses_the_trigram_index.
    """
    defs = dict(su.execute(
        "select indexrelid::regclass::text, pg_get_indexdef(indexrelid) from pg_index "
        "where indexrelid in ('products_title_trgm_idx'::regclass)").fetchall())
    assert su.execute("select to_regclass('products_tags_idx')").fetchone() == (None,)
    assert defs["products_title_trgm_idx"].endswith(
        "USING gin (store_id, title gin_trgm_ops)")
    su.execute("select set_config('session_replication_role', 'replica', true)")
    su.execute("""
        insert into tenants (id, subdomain, name)
        select ('00000000-0000-4000-8000-' || lpad(s::text, 12, '0'))::uuid, 'bulk-' || s, 'Bulk'
        from generate_series(1, 20) s;
        insert into products (store_id, title, handle, currency_code, tags)
        select ('00000000-0000-4000-8000-' || lpad((1 + i % 20)::text, 12, '0'))::uuid,
               'Product ' || i || case when i % 400 = 7 then ' Teapot' else '' end,
               'product-' || i, 'USD',
               array['colour-' || i % 7] || case when i % 400 = 7 then array['tea'] else '{}' end
        from generate_series(1, 20000) i;
    """)
    su.commit()
    # the rows sit in the GIN pending lists until (auto)vacuum merges them
    su.execute("select gin_clean_pending_list('products_title_trgm_idx')")
    su.execute("analyze tenants, products")
    store = uuid.UUID("00000000-0000-4000-8000-000000000008")  # products 7, 407, ... 19607

    by_title = plan_of(su, "select id from products where store_id = %s and title ilike %s",
                       (store, "%teapot%"))
    assert "products_title_trgm_idx" in by_title, by_title
    assert "Index Cond: ((store_id = " in by_title and "~~*" in by_title, by_title
    assert su.execute("select count(*) from products where store_id = %s and title ilike %s",
                      (store, "%teapot%")).fetchone() == (50,)
    assert su.execute("select count(*) from products where store_id = %s and tags @> %s",
                      (store, ["tea"])).fetchone() == (50,)
    su.rollback()


# --------------------------------------------------------------------------- functions


SLUGS = {
    "Hello World": "hello-world",
    "  --Hello,   World!--  ": "hello-world",
    "Crème Brûlée": "creme-brulee",
    "Straße Æble Œuvre": "strasse-aeble-oeuvre",
    "Łódź Smørrebrød": "lodz-smorrebrod",
    "Bob's Café": "bobs-cafe",
    "ÉLAN 2000": "elan-2000",
    "": "n-a",
    "!!!": "n-a",
    "日本": "n-a",
}


def test_generate_slug(su):
    got = {text: su.execute("select generate_slug(%s)", (text,)).fetchone()[0] for text in SLUGS}
    assert got == SLUGS


def test_generate_slug_is_short_ascii_and_null_safe(su):
    long_slug = su.execute("select generate_slug(repeat('ab-', 300))").fetchone()[0]
    assert len(long_slug) <= 200 and not long_slug.endswith("-")
    assert long_slug.isascii() and long_slug == long_slug.lower()
    assert su.execute("select generate_slug(null)").fetchone() == (None,)


def test_current_store_id_is_null_unset_and_after_the_transaction(owner_dsn):
    store = uuid.uuid4()
    with psycopg.connect(owner_dsn) as conn:
        assert conn.execute("select get_current_store_id()").fetchone() == (None,)
        conn.execute("select set_current_store_id(%s)", (store,))
        assert conn.execute("select get_current_store_id()").fetchone() == (store,)
        conn.commit()
        # the setting now exists on the connection as '': must read NULL, not fail the cast
        assert conn.execute("select get_current_store_id()").fetchone() == (None,)
        conn.rollback()
        conn.execute("select set_current_store_id(%s)", (store,))
        conn.rollback()
        assert conn.execute("select get_current_store_id()").fetchone() == (None,)
        conn.execute("select set_current_store_id(null)")
        assert conn.execute("select get_current_store_id()").fetchone() == (None,)


# --------------------------------------------------------------------------- columns


def test_draft_product_needs_only_store_and_title(su):
    store = storedb.create_tenant(su, subdomain="drafts", name="Drafts", allow_bypass=True,
                                  currency_code="EUR").id
    first = su.execute("insert into products (store_id, title) values (%s, 'Café Crème Mug') "
                       "returning handle, status::text, currency_code, price", (store,)).fetchone()
    assert first == ("cafe-creme-mug", "draft", "EUR", None)
    second = su.execute("insert into products (store_id, title) values (%s, 'Café Crème Mug') "
                        "returning handle", (store,)).fetchone()
    third = su.execute("insert into products (store_id, title) values (%s, 'Café Crème Mug') "
                       "returning handle", (store,)).fetchone()
    assert (second, third) == (("cafe-creme-mug-2",), ("cafe-creme-mug-3",))
    # another store gets the plain handle
    other = new_store(su, "others")
    assert su.execute("insert into products (store_id, title) values (%s, 'Café Crème Mug') "
                      "returning handle, currency_code", (other,)).fetchone() == (
        "cafe-creme-mug", "USD")
    su.commit()


def test_money_columns_are_bigint_and_nothing_is_float(su):
    money = {
        "products": ("price", "compare_at_price", "cost_price"),
        "orders": ("subtotal", "discount_total", "shipping_total", "tax_total",
                   "gift_card_total", "total", "paid_total", "refunded_total"),
        "order_line_items": ("unit_price", "discount_total", "total"),
    }
    types = {(t, c): d for t, c, d in su.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'public'").fetchall()}
    for table, columns in money.items():
        for column in columns:
            assert types[(table, column)] == "bigint", (table, column)
    floats = {k: v for k, v in types.items() if v in ("real", "double precision", "money")}
    assert floats == {}


def test_currency_code_must_be_upper_case_iso(su):
    store = new_store(su, "money")
    fill_store(su, store, "m")
    refused = {}
    for table in ("products", "orders", "order_line_items", "tenant_settings"):
        with pytest.raises(psycopg.errors.CheckViolation) as info, su.transaction():
            su.execute(f"update {table} set currency_code = 'usd' where store_id = %s", (store,))
        refused[table] = info.value.diag.constraint_name
        # the same update with a valid code goes through
        with su.transaction():
            assert su.execute(f"update {table} set currency_code = 'USD' where store_id = %s",
                              (store,)).rowcount == 1
    assert refused == {t: f"{t}_currency_code_check" for t in refused}


def test_jsonb_object_columns_reject_arrays(su):
    store = new_store(su, "json")
    fill_store(su, store, "j")
    columns = [("store_configs", "config"), ("store_configs", "theme"),
               ("store_configs", "layout"), ("store_configs", "features"),
               ("tenants", "metadata"), ("products", "metadata"), ("orders", "metadata"),
               ("order_line_items", "metadata"), ("users", "metadata")]
    refused = {}
    for table, column in columns:
        key = "id" if table == "tenants" else "store_id"
        with pytest.raises(psycopg.errors.CheckViolation) as info, su.transaction():
            su.execute(f"update {table} set {column} = '[1, 2]' where {key} = %s", (store,))
        refused[(table, column)] = info.value.diag.constraint_name
        with su.transaction():  # an object is fine
            assert su.execute(f"update {table} set {column} = '{{\"k\": 1}}' where {key} = %s",
                              (store,)).rowcount == 1
    assert refused == {(t, c): f"{t}_{c}_check" for t, c in columns}


def test_product_images_must_be_an_array(su):
    store = new_store(su, "imgs")
    with pytest.raises(psycopg.errors.CheckViolation) as info:
        su.execute("insert into products (store_id, title, images) values (%s, 'x', '{}')",
                   (store,))
    assert info.value.diag.constraint_name == "products_images_check"
    su.rollback()
