"""12. Offboarding a store of 500k rows (issue 16): batches vs one DELETE FROM tenants.

The same store is built once (100k products, 150k orders, 200k line items,
50k audit rows, users) beside a small second store, copied with CREATE
DATABASE ... TEMPLATE, and removed two ways:

* ``storedb.offboard_tenant`` (migration 015): one batch per transaction,
  batch sizes following a 1 s budget per transaction;
* ``delete from tenants where id = ...``: the cascades, one transaction.

Reported: total time, the longest transaction (what blocks vacuum and holds
locks), WAL written, and the number of transactions.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from common import QUICK, SHIPPED, Cluster, table

import storedb

STORE = "0ff00000-0000-4000-8000-000000000001"
OTHER = "0ff00000-0000-4000-8000-000000000002"
SCALE = 10 if QUICK else 1  # divides the row counts


def _build(c: Cluster, db: str) -> int:
    storedb.migrate(c.dsn(db), directory=SHIPPED)
    with psycopg.connect(c.dsn(db), autocommit=True) as conn:
        for sid, sub in ((STORE, "leaving"), (OTHER, "staying")):
            conn.execute("select create_tenant(%s, 'Offboard bench', p_id => %s)", (sub, sid))
        conn.execute("set session_replication_role = replica")  # load without triggers
        n_products, n_orders = 100_000 // SCALE, 150_000 // SCALE
        conn.execute(f"""
            insert into products (store_id, title, handle, price, currency_code)
            select '{STORE}', 'Product ' || i, 'p-' || i, 100, 'USD'
            from generate_series(1, {n_products}) i""")
        conn.execute(f"""
            insert into orders (store_id, display_id, currency_code, customer_email)
            select '{STORE}', i, 'USD', 'c' || i || '@example.com'
            from generate_series(1, {n_orders}) i""")
        conn.execute(f"""
            insert into order_line_items (store_id, order_id, product_id, title, quantity,
                                          unit_price, currency_code)
            select o.store_id, o.id, null, 'Item', 1, 100, 'USD'
            from orders o cross join generate_series(1, 2) k
            where o.store_id = '{STORE}' and (k = 1 or o.display_id % 3 = 0)""")
        conn.execute(f"""
            insert into users (store_id, email)
            select '{STORE}', 'staff' || i || '@example.com' from generate_series(1, 1000) i""")
        conn.execute(f"""
            insert into audit_log (store_id, table_name, operation, row_key, db_user,
                                   db_session_user)
            select '{STORE}', 'products', 'insert', jsonb_build_object('id', i), 'bench', 'bench'
            from generate_series(1, {50_000 // SCALE}) i""")
        conn.execute("set session_replication_role = origin")
        conn.execute("select soft_delete_tenant(%s)", (STORE,))
        conn.execute("vacuum analyze")
        row = conn.execute(
            "select (select count(*) from products where store_id = %(s)s)"
            " + (select count(*) from orders where store_id = %(s)s)"
            " + (select count(*) from order_line_items where store_id = %(s)s)"
            " + (select count(*) from users where store_id = %(s)s)"
            " + (select count(*) from audit_log where store_id = %(s)s)", {"s": STORE}).fetchone()
    assert row is not None
    return int(row[0])


def _wal(conn: psycopg.Connection[object]) -> int:
    row = conn.execute("select pg_current_wal_insert_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None
    return int(row[0])


def _batched(c: Cluster, db: str) -> dict[str, float]:
    with psycopg.connect(c.dsn(db), autocommit=True) as conn:
        conn.execute("checkpoint")  # both ways start after a checkpoint (full-page writes)
        w0 = _wal(conn)
        result = storedb.offboard_tenant(c.dsn(db), STORE, max_seconds=1.0)
        wal = _wal(conn) - w0
    return {"seconds": result.seconds, "longest_tx_s": result.longest_batch_seconds,
            "transactions": result.batches, "wal_mb": wal / 2**20, "rows": result.rows}


def _single(c: Cluster, db: str) -> dict[str, float]:
    with psycopg.connect(c.dsn(db), autocommit=True) as conn:
        conn.execute("checkpoint")
        w0 = _wal(conn)
        t = time.perf_counter()
        conn.execute("delete from tenants where id = %s", (STORE,))
        seconds = time.perf_counter() - t
        wal = _wal(conn) - w0
    return {"seconds": seconds, "longest_tx_s": seconds, "transactions": 1,
            "wal_mb": wal / 2**20}


def run_bench(c: Cluster, work: Path, results: dict[str, object]) -> list[str]:
    with c.fresh_db("offb_tmpl") as template:
        rows = _build(c, template)
        copies = []
        for _ in range(2):
            name = c.create_db("offb")
            c.drop_db(name)
            with c.admin() as conn:
                conn.execute(f'create database "{name}" template "{template}"')
            copies.append(name)
        try:
            batched = _batched(c, copies[0])
            single = _single(c, copies[1])
        finally:
            for name in copies:
                c.drop_db(name)
    results["offboard"] = {"store_rows": rows, "batched": batched, "single_delete": single}
    return [table(f"12. Offboarding a store of {rows:,} rows (soft-deleted first)",
                  ["way", "total s", "longest transaction s", "transactions", "WAL MB"],
                  [["storedb offboard (1 s budget)", f"{batched['seconds']:.1f}",
                    f"{batched['longest_tx_s']:.2f}", int(batched["transactions"]),
                    f"{batched['wal_mb']:.0f}"],
                   ["delete from tenants (cascade)", f"{single['seconds']:.1f}",
                    f"{single['longest_tx_s']:.1f}", 1, f"{single['wal_mb']:.0f}"]])]
