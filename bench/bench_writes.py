"""11. Write path (issue 16): triggers vs no triggers, HOT updates, audit size, bulk-load growth.

Every figure compares the SAME statements on the same table size; the only
difference is ``alter table ... disable trigger user`` (foreign keys stay, they
are system triggers). Times are the PostgreSQL backend's own CPU time (from
/proc), which other processes on a shared machine disturb far less than wall
time; wall time is reported beside it. Runs as the superuser with the store set.

* inserts: N single-row INSERTs of products (a PL/pgSQL loop: the app's shape,
  one row per statement) and the same N rows as one INSERT ... SELECT (an import).
* updates: M single-row updates by primary key, each its own transaction as the
  application sends them (prepared, from a client loop): half a stock change on
  products, half a note on orders; HOT share from pg_stat_user_tables.
* audit size: bytes of audit_log per one-column update (pg_column_size of the row).
* bulk load: products created and never analysed (autovacuum off for it), then
  10k and 100k rows with handle NULL (the handle-collision query runs per row).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
from common import QUICK, SHIPPED, Cluster, median, table, verdict

import storedb

INSERTS, UPDATES, ROUNDS = (10_000, 4_000, 1) if QUICK else (100_000, 20_000, 3)
BULK_SMALL, BULK_LARGE = (2_000, 20_000) if QUICK else (10_000, 100_000)
STORE = "b0000000-0000-4000-8000-000000000001"
OTHER = "b0000000-0000-4000-8000-000000000002"

_LOOP = """
do $$ begin
  for i in 1..{n} loop
    insert into products (store_id, title, handle, sku, price, currency_code, tags)
    values ('{store}', 'Product ' || i, 'p-{tag}-' || i, 'sku-{tag}-' || i, 1000 + i, 'USD',
            array['a', 'b']);
  end loop;
end $$"""
_BULK = """
insert into products (store_id, title, handle, sku, price, currency_code, tags)
select '{store}', 'Product ' || i, 'q-{tag}-' || i, 'squ-{tag}-' || i, 1000 + i, 'USD',
       array['a', 'b']
from generate_series(1, {n}) i"""
def _cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _measure(conn: psycopg.Connection[object], sql: str) -> tuple[float, float]:
    """(backend CPU ms, wall ms) of one statement."""
    pid = conn.info.backend_pid
    c0, t0 = _cpu_ms(pid), time.perf_counter()
    conn.execute(sql)  # type: ignore[arg-type]
    return _cpu_ms(pid) - c0, (time.perf_counter() - t0) * 1000


def _update_loop(conn: psycopg.Connection[object], n: int, r: int) -> tuple[float, float]:
    """n single-row updates of products and n of orders, one transaction each: (CPU, wall) ms."""
    keys = {t: [k for (k,) in conn.execute(  # type: ignore[arg-type]
        f"select id from {t} where store_id = %s order by id limit %s", (STORE, n))]
        for t in ("products", "orders")}
    pid = conn.info.backend_pid
    c0, t0 = _cpu_ms(pid), time.perf_counter()
    for k in keys["products"]:
        conn.execute("update products set inventory_quantity = inventory_quantity + 1 "
                     "where store_id = %s and id = %s", (STORE, k), prepare=True)
    for k in keys["orders"]:
        conn.execute("update orders set notes = %s where store_id = %s and id = %s",
                     (f"called the customer {r}", STORE, k), prepare=True)
    return _cpu_ms(pid) - c0, (time.perf_counter() - t0) * 1000


def _triggers(conn: psycopg.Connection[object], on: bool) -> None:
    verb = "enable" if on else "disable"
    for t in ("products", "orders", "order_line_items"):
        conn.execute(f"alter table {t} {verb} trigger user")  # type: ignore[arg-type]


def _setup(conn: psycopg.Connection[object]) -> None:
    for sid, sub in ((STORE, "bench-writes"), (OTHER, "bench-other")):
        conn.execute("select create_tenant(%s, 'Bench', p_id => %s)", (sub, sid))
    conn.execute("select set_config('app.current_store_id', %s, false)", (STORE,))


def _reset(conn: psycopg.Connection[object]) -> None:
    conn.execute("truncate products, orders, order_line_items, order_display_id_counters")
    # as retention does (whole partitions), not row by row: production never deletes audit rows
    # one by one, and the dead rows would slow only the variant that writes them
    conn.execute("truncate audit_log")


def _load_for_updates(conn: psycopg.Connection[object], n: int) -> None:
    """n products and n orders per store, loaded without triggers, then analysed."""
    _triggers(conn, False)
    for sid in (STORE, OTHER):
        conn.execute(_BULK.format(store=sid, tag=sid[-1], n=n))  # type: ignore[arg-type]
        conn.execute(  # type: ignore[arg-type]
            f"insert into orders (store_id, display_id, currency_code, customer_email, subtotal,"
            f" total) select '{sid}', i, 'USD', 'c' || i || '@example.com', 100, 100 "
            f"from generate_series(1, {n}) i")
    _triggers(conn, True)
    conn.execute("vacuum analyze products, orders")


def _hot(conn: psycopg.Connection[object]) -> tuple[int, int]:
    conn.execute("select pg_stat_force_next_flush()")
    conn.execute("select pg_stat_clear_snapshot()")
    row = conn.execute("select sum(n_tup_upd), sum(n_tup_hot_upd) from pg_stat_user_tables "
                       "where relname in ('products', 'orders')").fetchone()
    assert row is not None
    return int(row[0] or 0), int(row[1] or 0)


def _bulk_load(c: Cluster, n: int) -> tuple[float, float]:
    """n products with handle NULL into a never-analysed table: (CPU ms, wall ms)."""
    with c.fresh_db("bulk") as db:
        storedb.migrate(c.dsn(db), directory=SHIPPED)
        with psycopg.connect(c.dsn(db), autocommit=True) as conn:
            conn.execute("alter table products set (autovacuum_enabled = false)")
            _setup(conn)
            return _measure(conn, f"""
                insert into products (store_id, title, price)
                select '{STORE}', 'Imported product ' || (i % ({n} / 2)), 500
                from generate_series(1, {n}) i""")


def run_bench(c: Cluster, work: Path, results: dict[str, object]) -> list[str]:
    rows: dict[str, dict[str, list[float]]] = {}
    audit_bytes = 0.0
    hot = (0, 0)
    with c.fresh_db("writes") as db:
        storedb.migrate(c.dsn(db), directory=SHIPPED)
        with psycopg.connect(c.dsn(db), autocommit=True) as conn:
            _setup(conn)
            for r in range(ROUNDS):  # alternate, so both variants see the same machine noise
                for on in (True, False):
                    key = "triggers" if on else "none"
                    for name, sql in (("insert loop", _LOOP), ("insert ... select", _BULK)):
                        _reset(conn)
                        _triggers(conn, on)
                        cpu, wall = _measure(conn, sql.format(store=STORE, tag=r, n=INSERTS))
                        rows.setdefault(name, {}).setdefault(key, []).append(cpu)
                        rows[name].setdefault(key + " wall", []).append(wall)
                    _triggers(conn, True)
                    _reset(conn)
                    _load_for_updates(conn, UPDATES // 2)
                    _triggers(conn, on)
                    before = _hot(conn)
                    cpu, wall = _update_loop(conn, UPDATES // 2, r)
                    after = _hot(conn)
                    rows.setdefault("update loop", {}).setdefault(key, []).append(cpu)
                    rows["update loop"].setdefault(key + " wall", []).append(wall)
                    if on:
                        hot = (after[0] - before[0], after[1] - before[1])
                        size = conn.execute(
                            "select avg(pg_column_size(a.*)) from audit_log a "
                            "where operation = 'update' and table_name = 'products'").fetchone()
                        audit_bytes = float(size[0]) if size and size[0] else 0.0
                    _triggers(conn, True)
    small = [_bulk_load(c, BULK_SMALL) for _ in range(ROUNDS)]
    large = [_bulk_load(c, BULK_LARGE) for _ in range(ROUNDS)]
    growth = median([x[0] for x in large]) / median([x[0] for x in small])
    factor = BULK_LARGE // BULK_SMALL
    out: list[list[object]] = []
    summary: dict[str, object] = {}
    for name, m in rows.items():
        ratio = median(m["triggers"]) / median(m["none"])
        summary[name] = {"cpu_ms_triggers": m["triggers"], "cpu_ms_none": m["none"],
                         "wall_ms_triggers": m["triggers wall"], "wall_ms_none": m["none wall"],
                         "ratio": ratio}
        n = UPDATES if name.startswith("update") else INSERTS
        out.append([f"{name} ({n:,} rows)", f"{median(m['triggers']):.0f}",
                    f"{median(m['none']):.0f}",
                    f"{median(m['triggers wall']):.0f} / {median(m['none wall']):.0f}",
                    f"{ratio:.2f}× ({verdict(ratio <= 2)})"])
    hot_share = hot[1] / hot[0] if hot[0] else 0.0
    results["writes"] = {**summary, "hot_updates": hot[1], "updates": hot[0],
                         "hot_share": hot_share, "audit_bytes_per_update": audit_bytes,
                         "bulk_small_cpu_ms": small, "bulk_large_cpu_ms": large,
                         "bulk_growth": growth, "rounds": ROUNDS}
    return [
        table(f"11a. Writes with every trigger vs none (backend CPU ms, median of {ROUNDS})",
              ["statements", "all triggers", "no triggers", "wall ms (all / none)",
               "ratio (≤ 2×)"], out),
        table("11b. Updates: HOT share and audit size",
              ["single-row updates", "HOT", "HOT share (≥ 50%)",
               "audit bytes per one-column update (≤ 512)"],
              [[hot[0], hot[1], f"{hot_share:.0%} ({verdict(hot_share >= 0.5)})",
                f"{audit_bytes:.0f} ({verdict(0 < audit_bytes <= 512)})"]]),
        table("11c. Bulk load into a never-analysed products table (handle NULL; CPU ms)",
              [f"{BULK_SMALL:,} rows", f"{BULK_LARGE:,} rows", f"growth (≤ {factor * 1.2:.0f}×)"],
              [[f"{median([x[0] for x in small]):.0f}", f"{median([x[0] for x in large]):.0f}",
                f"{growth:.1f}× ({verdict(growth <= factor * 1.2)})"]]),
    ]
