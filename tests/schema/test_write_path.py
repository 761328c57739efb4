"""Write path (007, 008, 012): linear bulk loads, HOT updates, status lists through indexes.

Volumes stay small: plans are read with EXPLAIN, never timed (bench/bench_writes.py times them).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg

from tests.helpers import in_store

Store = Callable[..., uuid.UUID]

HANDLE_QUERY = ("select 1 from products p where p.store_id = '{}' and p.handle = 'imported-1' "
                "and p.deleted_at is null and p.id <> '{}'")


def test_handle_lookup_uses_the_handle_index_on_a_never_analysed_table(
        su: psycopg.Connection[object], store: Store) -> None:
    """The query products_before_write() runs, planned as it is: anew, with values.

    Below about a thousand rows every store_id-led index is estimated at one row and
    may be picked (cheap at that size); past it the handle index must win, whereas a
    plan cached at the start would read the whole store for every row inserted.
    """
    a = store("bulk-plan")
    assert su.execute("select reltuples from pg_class where relname = 'products'"
                      ).fetchone() == (-1,)  # never analysed
    su.execute("select set_config('app.current_store_id', %s, false)", (str(a),))
    su.execute("insert into products (store_id, title, price) "
               "select %s, 'Imported ' || (i %% 1000), 1 from generate_series(1, 2000) i", (a,))
    assert su.execute("select count(distinct handle) from products").fetchone() == (2000,)
    assert su.execute("select reltuples from pg_class where relname = 'products'"
                      ).fetchone() == (-1,)  # still never analysed
    su.execute("set enable_seqscan = off")
    plan = "\n".join(str(r[0]) for r in su.execute(
        "explain " + HANDLE_QUERY.format(a, uuid.uuid4())))  # type: ignore[arg-type]
    assert "products_store_id_handle_key" in plan, plan
    config = su.execute("select proconfig from pg_proc where proname = 'products_before_write'"
                        ).fetchone()
    assert config is not None and "plan_cache_mode=force_custom_plan" in config[0]


def test_updates_of_unindexed_columns_are_hot(su: psycopg.Connection[object], store: Store
                                              ) -> None:
    a = store("hot")
    su.execute("select set_config('app.current_store_id', %s, false)", (str(a),))
    su.execute("insert into products (store_id, title, price) "
               "select %s, 'P' || i, 1 from generate_series(1, 200) i", (a,))
    su.execute("insert into orders (store_id) select %s from generate_series(1, 200)", (a,))
    su.commit()
    su.autocommit = True  # one transaction per update, as the application does
    for table, change in (("products", "inventory_quantity = inventory_quantity + 1"),
                          ("orders", "notes = 'called the customer'")):
        for (key,) in su.execute(f"select id from {table}").fetchall():
            su.execute(f"update {table} set {change} where store_id = %s and id = %s", (a, key))
    su.execute("select pg_stat_force_next_flush()")
    rows = su.execute("select relname, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables "
                      "where relname in ('products', 'orders') order by 1").fetchall()
    for name, updates, hot in rows:
        assert updates == 200 and hot >= 100, (name, updates, hot)


def test_status_lists_newest_first_use_a_composite_index(app: psycopg.Connection[object],
                                                         su: psycopg.Connection[object],
                                                         store: Store) -> None:
    """Enum equality is not LEAKPROOF: under RLS only the definer functions (012) use the index."""
    a, b = store("status-plan"), store("status-other")
    rare = "case when i %% 50 = 0 then '{}' else '{}' end::{}"
    for s in (a, b):
        in_store(app, s, "insert into orders (store_id, status, payment_status, "
                         "fulfillment_status, placed_at) "
                         f"select %s, {rare.format('canceled', 'pending', 'order_status')}, "
                         f"{rare.format('captured', 'not_paid', 'payment_status')}, "
                         f"{rare.format('shipped', 'not_fulfilled', 'fulfillment_status')}, "
                         "now() - i * interval '1 minute' from generate_series(1, 2000) i", (s,))
    su.execute("analyze orders")
    su.commit()
    plans: list[str] = []
    su.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
    su.execute("load 'auto_explain'")
    su.execute("select set_config('auto_explain.log_min_duration', '0', true), "
               "set_config('auto_explain.log_nested_statements', 'on', true), "
               "set_config('auto_explain.log_level', 'notice', true), "
               "set_current_store_id(%s)", (a,))
    for function, value in (("orders_by_status", "canceled"),
                            ("orders_by_payment_status", "captured"),
                            ("orders_by_fulfillment_status", "shipped")):
        plans.clear()
        su.execute(f"select count(*) from {function}(%s, 20)", (value,))
        inner = next(p for p in plans if "from public.orders o" in p)
        column = function.removeprefix("orders_by_")
        assert f"Index Scan using orders_store_id_{column}_placed_at_idx" in inner, inner
        assert "Sort" not in inner, inner
    su.rollback()
    # as the app: the store's rows only, newest first, keyset paging
    rows = in_store(app, a, "select store_id, placed_at from orders_by_status('canceled', 30)")
    assert len(rows) == 30 and {r[0] for r in rows} == {a}
    assert [r[1] for r in rows] == sorted((r[1] for r in rows), reverse=True)  # type: ignore
    more = in_store(app, a, "select placed_at from orders_by_status('canceled', 30, %s)",
                    (rows[-1][1],))
    assert len(more) == 10 and more[0][0] < rows[-1][1]  # type: ignore[operator]
    with app.transaction():  # no store: nothing, like the policies
        assert app.execute("select count(*) from orders_by_status('canceled')"
                           ).fetchone() == (0,)


def test_index_set(su: psycopg.Connection[object]) -> None:
    names = {r[0] for r in su.execute(
        "select indexrelid::regclass::text from pg_index i join pg_class c on c.oid = i.indrelid "
        "where c.relnamespace = 'public'::regnamespace")}
    for gone in ("products_store_id_updated_at_idx", "orders_store_id_updated_at_idx",
                 "orders_store_id_created_at_idx", "products_tags_idx",
                 "store_configs_store_id_created_at_idx", "tenant_domains_domain_key"):
        assert gone not in names, gone
    composite = su.execute("""
        select count(*) from pg_index i
        join pg_class c on c.oid = i.indrelid and not c.relispartition
        join pg_attribute a on a.attrelid = i.indrelid and a.attname = 'store_id'
        where c.relnamespace = 'public'::regnamespace and i.indkey[0] = a.attnum
          and i.indnatts >= 2""").fetchone()
    assert composite is not None and composite[0] >= 20
