"""5. Tenant queries at scale: RLS (app role, store set per transaction) vs explicit store_id.

Data are generated set-based in SQL as the superuser with
``session_replication_role = replica`` (skips the audit/handle/display-id
triggers and FK checks; display_id and handle are set explicitly), with the
shipped secondary indexes dropped during the load and rebuilt from their own
definitions afterwards.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import psycopg
from common import QUICK, SHIPPED, Cluster, median, pct, table, verdict
from psycopg import ClientCursor

import storedb

APP = "bench_app"

# (name, intended index, query with {s} where the explicit variant adds its store filter)
QUERIES = [
    ("recent orders page", "orders_store_id_placed_at_idx",
     "select id, display_id, status, total, placed_at from orders where {s} true "
     "order by placed_at desc limit 25"),
    ("product by handle", "products_store_id_handle_key",
     "select id, title, price, status from products where {s} handle = %(handle)s "
     "and deleted_at is null"),
    # Under RLS the app searches through search_products() (migration 005): ILIKE is not
    # LEAKPROOF, so a plain query by an RLS role cannot use the trigram index.
    ("product title search (trigram)", "products_title_trgm_idx",
     "select id, title, price from products where {s} title ilike %(pattern)s "
     "and deleted_at is null order by similarity(title, %(word)s) desc, created_at desc, id "
     "limit 20"),
    ("order by display_id", "orders_store_id_display_id_key",
     "select id, status, total, placed_at from orders where {s} display_id = %(display_id)s"),
    ("store revenue this month", "orders_store_id_placed_at_idx",
     "select coalesce(sum(total), 0), count(*) from orders where {s} "
     "placed_at >= date_trunc('month', now()) and status <> 'canceled'"),
]

GENERATE = """
set session_replication_role = replica;
set maintenance_work_mem = '512MB';
select setseed(0.42);
insert into tenants (subdomain, name)
  select 'store-' || g, 'Store ' || g from generate_series(1, {stores}) g;
create temp table words as
  select row_number() over () as n, a || b || c as w
  from unnest('{{ka,lo,mi,ne,ru,sa,to,vi,ze,bo,du,fe,gi,ha,ju,pe}}'::text[]) a,
       unnest('{{ka,lo,mi,ne,ru,sa,to,vi,ze,bo,du,fe,gi,ha,ju,pe}}'::text[]) b,
       unnest('{{ka,lo,mi,ne,ru,sa,to,vi,ze,bo,du,fe,gi,ha,ju,pe}}'::text[]) c;
create temp table wa as select array_agg(w order by n) as a from words;
insert into products (store_id, title, handle, status, price, currency_code, created_at,
                      published_at, sku)
  select t.id, x.title, generate_slug(x.title) || '-' || g, 'published', (random() * 10000)::int,
         'USD', now() - random() * interval '365 days', now() - random() * interval '365 days',
         'SKU-' || g
  from tenants t cross join generate_series(1, {products}) g
  cross join lateral (select initcap(wa.a[1 + (random() * 4095)::int + (g * 0)]) || ' '
                             || wa.a[1 + (random() * 4095)::int] || ' '
                             || wa.a[1 + (random() * 4095)::int] as title from wa) x;
insert into orders (store_id, display_id, status, payment_status, currency_code, subtotal, total,
                    placed_at, created_at, customer_email)
  select t.id, g,
         (array['pending','confirmed','completed','canceled']::order_status[])[1 + g % 4],
         'captured', 'USD', s.v, s.v, s.at, s.at, 'c' || (g % 500) || '@example.com'
  from tenants t cross join generate_series(1, {orders}) g
  cross join lateral (select (random() * 20000)::bigint + (g * 0) as v,
                             now() - random() * interval '365 days' as at) s;
"""


def _secondary_indexes(conn: psycopg.Connection[Any], tables: list[str]) -> list[tuple[str, str]]:
    rows = conn.execute(
        "select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index i "
        "where i.indrelid = any(%s::regclass[]) and not exists "
        "(select 1 from pg_constraint c where c.conindid = i.indexrelid)", (tables,)).fetchall()
    return [(r[0], r[1]) for r in rows]


def generate(c: Cluster, db: str, stores: int, products: int, orders: int) -> dict[str, float]:
    timings = {}
    with psycopg.connect(c.dsn(db), autocommit=True) as conn:
        t = time.perf_counter()
        indexes = _secondary_indexes(conn, ["products", "orders"])
        for name, _ in indexes:
            conn.execute(f"drop index {name}")
        conn.execute(GENERATE.format(stores=stores, products=products, orders=orders))
        timings["insert_s"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute("set maintenance_work_mem = '512MB'")
        conn.execute("set max_parallel_maintenance_workers = 2")
        for _, definition in indexes:
            conn.execute(definition)
        timings["index_s"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute("vacuum (analyze) tenants, products, orders")
        timings["analyze_s"] = time.perf_counter() - t
    return timings


def _indexes_in(plan: Any) -> list[str]:
    found = []
    if isinstance(plan, dict):
        if "Index Name" in plan:
            found.append(plan["Index Name"])
        for v in plan.values():
            found += _indexes_in(v)
    elif isinstance(plan, list):
        for v in plan:
            found += _indexes_in(v)
    return found


def _explain(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> list[str]:
    with ClientCursor(conn) as cur:
        cur.execute("explain (format json) " + sql, params)
        row = cur.fetchone()
    plan = row[0] if row else []
    return sorted(set(_indexes_in(plan if not isinstance(plan, str) else json.loads(plan))))


def _explain_inside(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]
                    ) -> list[str]:
    """Indexes used by the query inside a function, as auto_explain logs it (superuser)."""
    plans: list[str] = []

    def keep(diag: psycopg.errors.Diagnostic) -> None:
        plans.append(diag.message_primary or "")

    conn.add_notice_handler(keep)
    with conn.transaction():
        conn.execute("load 'auto_explain'")
        conn.execute("select set_config('auto_explain.log_min_duration', '0', true), "
                     "set_config('auto_explain.log_nested_statements', 'on', true), "
                     "set_config('auto_explain.log_level', 'notice', true), "
                     "set_current_store_id(%(store)s)", params)
        conn.execute(sql, params).fetchall()
    conn.remove_notice_handler(keep)
    inner = " ".join(p for p in plans if "from public.products p" in p)
    return sorted(set(re.findall(r"Index Scan on (\w+)", inner)))


def run_bench(c: Cluster, work: Path, results: dict[str, object]) -> list[str]:
    stores, products, orders = (200, 500, 1000) if QUICK else (1000, 1000, 2000)
    iters = 60 if QUICK else 400
    db = c.create_db("scale")
    try:
        storedb.migrate(c.dsn(db), directory=SHIPPED)
        with psycopg.connect(c.dsn(db), autocommit=True) as conn, \
                contextlib.suppress(psycopg.errors.DuplicateObject):
            conn.execute(f"create role {APP} login in role storedb_app")
        t = time.perf_counter()
        gen = generate(c, db, stores, products, orders)
        gen["total_s"] = time.perf_counter() - t
        print(f"   generated {stores} stores, {stores * products:,} products, "
              f"{stores * orders:,} orders in {gen['total_s']:.0f} s "
              f"(insert {gen['insert_s']:.0f} s, indexes {gen['index_s']:.0f} s)", flush=True)
        owner = psycopg.connect(c.dsn(db), autocommit=True)
        app = psycopg.connect(c.dsn(db, user=APP))
        rng = random.Random(7)
        store_ids = [r[0] for r in owner.execute("select id from tenants").fetchall()]
        sample = {s: owner.execute("select handle, split_part(title, ' ', 2) from products "
                                   "where store_id = %s limit 50", (s,)).fetchall()
                  for s in rng.sample(store_ids, min(100, len(store_ids)))}
        stores_s = list(sample)

        def params() -> dict[str, Any]:
            s = rng.choice(stores_s)
            handle, word = rng.choice(sample[s])
            return {"store": s, "handle": handle, "pattern": f"%{word}%", "word": word,
                    "display_id": rng.randint(1, orders)}

        def rls(sql: str, p: dict[str, Any]) -> tuple[float, float]:
            t0 = time.perf_counter()
            with app.transaction():
                app.execute("select set_current_store_id(%s)", (p["store"],))
                t1 = time.perf_counter()
                app.execute(sql, p, prepare=True).fetchall()
                t2 = time.perf_counter()
            return t2 - t1, time.perf_counter() - t0

        def explicit(sql: str, p: dict[str, Any]) -> float:
            # Both sides run prepared statements (as psycopg does by itself after 5 runs),
            # so planning noise stays out of the comparison.
            # The same statements as the RLS side, so that RLS is the only difference:
            # a transaction in which the store is set, then the query. (Measured alone in
            # autocommit, with no set_config before it, a query runs 0.03-0.05 ms faster
            # whether RLS applies or not.)
            with owner.transaction():
                owner.execute("select set_current_store_id(%s)", (p["store"],))
                t1 = time.perf_counter()
                owner.execute(sql, p, prepare=True).fetchall()
                return time.perf_counter() - t1

        rows, out = [], {}
        for name, intended, template in QUERIES:
            sql_rls = template.format(s="")
            sql_own = template.format(s="store_id = %(store)s and")
            p = params()
            if "title search" in name:
                sql_rls = "select id, title, price from search_products(%(word)s, 20)"
                used_rls = _explain_inside(owner, sql_rls, p)
            else:
                with app.transaction():
                    app.execute("select set_current_store_id(%s)", (p["store"],))
                    used_rls = _explain(app, sql_rls, p)
            used_own = _explain(owner, sql_own, p)
            for _ in range(20):  # warm-up: caches, prepared statements
                q = params()
                rls(sql_rls, q)
                explicit(sql_own, q)
            a, full, b = [], [], []
            for _ in range(iters):
                q = params()
                if rng.random() < 0.5:
                    x, y = rls(sql_rls, q)
                    b.append(explicit(sql_own, q))
                else:
                    b.append(explicit(sql_own, q))
                    x, y = rls(sql_rls, q)
                a.append(x)
                full.append(y)
            r50, r95 = median(a) * 1000, pct(a, 95) * 1000
            o50, o95 = median(b) * 1000, pct(b, 95) * 1000
            ratio = r50 / o50
            ok_rls, ok_own = intended in used_rls, intended in used_own
            out[name] = {"rls_p50_ms": r50, "rls_p95_ms": r95, "explicit_p50_ms": o50,
                         "explicit_p95_ms": o95, "ratio_p50": ratio, "ratio_p95": r95 / o95,
                         "rls_txn_p50_ms": median(full) * 1000, "intended_index": intended,
                         "indexes_rls": used_rls, "indexes_explicit": used_own,
                         "target_met": ratio <= 1.1}
            rows.append([name, f"{r50:.3f}", f"{r95:.3f}", f"{o50:.3f}", f"{o95:.3f}",
                         f"{ratio:.2f}× ({verdict(ratio <= 1.1)})", f"{r95 / o95:.2f}×",
                         f"{median(full) * 1000:.3f}",
                         f"{', '.join(used_rls) or 'seq scan'} {'✓' if ok_rls else '✗'}",
                         f"{', '.join(used_own) or 'seq scan'} {'✓' if ok_own else '✗'}"])
        executor = _executor_only(owner, app, stores_s[0], orders)
        owner.close()
        app.close()
    finally:
        c.drop_db(db)
    results["queries"] = {"stores": stores, "products": stores * products,
                          "orders": stores * orders, "generation_s": gen, "iterations": iters,
                          "per_query": out, "executor_only_us": executor}
    ex = executor
    return [table(f"5. Hot queries: {stores:,} stores, {stores * products:,} products, "
                  f"{stores * orders:,} orders ({iters} runs each, interleaved, ms)",
                  ["query", "RLS p50", "RLS p95", "explicit p50", "explicit p95",
                   "p50 ratio (≤ 1.1×)", "p95 ratio", "RLS whole txn p50 (begin+set+query+commit)",
                   "index used, RLS (app role)", "index used, explicit (superuser)"], rows),
            table("5b. Executor only: the point lookups 20,000 times in a PL/pgSQL loop, "
                  "no client or network (µs per lookup, median of 5)",
                  ["lookup", "RLS (app role)", "explicit store_id (superuser)", "ratio"],
                  [[k, f"{v['rls']:.2f}", f"{v['explicit']:.2f}",
                    f"{v['rls'] / v['explicit']:.2f}×"] for k, v in ex.items()])]


_LOOP = """
create or replace function pg_temp.bench_loop(kind text, n int, store uuid, explicit boolean,
                                              handles text[])
  returns numeric language plpgsql as $$
declare t0 timestamptz; r record; i int; k int := array_length(handles, 1);
begin
  t0 := clock_timestamp();
  for i in 1..n loop
    if kind = 'handle' then
      if explicit then
        select id, title into r from products
          where store_id = store and handle = handles[1 + i % k] and deleted_at is null;
      else
        select id, title into r from products
          where handle = handles[1 + i % k] and deleted_at is null;
      end if;
    else
      if explicit then
        select id, status into r from orders where store_id = store and display_id = 1 + i % 1000;
      else
        select id, status into r from orders where display_id = 1 + i % 1000;
      end if;
    end if;
  end loop;
  return extract(epoch from clock_timestamp() - t0) * 1e6 / n;
end $$;
"""


def _executor_only(owner: psycopg.Connection[Any], app: psycopg.Connection[Any], store: Any,
                   orders: int) -> dict[str, dict[str, float]]:
    """Time the lookups inside the server, where only RLS differs between the two sides."""
    out: dict[str, dict[str, float]] = {}
    handles = [r[0] for r in owner.execute(
        "select handle from products where store_id = %s", (store,)).fetchall()]
    for conn in (owner, app):
        conn.execute(_LOOP)
        if not conn.autocommit:
            conn.commit()
    for kind in ("handle", "display_id"):
        rls, explicit = [], []
        for _ in range(5):
            with app.transaction():
                app.execute("select set_current_store_id(%s)", (store,))
                rls.append(float(app.execute(
                    "select pg_temp.bench_loop(%s, 20000, %s, false, %s)",
                    (kind, store, handles)).fetchone()[0]))
            explicit.append(float(owner.execute(
                "select pg_temp.bench_loop(%s, 20000, %s, true, %s)",
                (kind, store, handles)).fetchone()[0]))
        out[f"{'product by handle' if kind == 'handle' else 'order by display_id'}"] = {
            "rls": median(rls), "explicit": median(explicit)}
    return out
