"""9. storedb.aio: the async up-to-date check against the sync one (target ≤ 1.2×).

Both are given an open connection as an application holds it (not
autocommit), and a DSN; interleaved rounds, so load on the machine hits both
alike.  The async calls run inside one event loop, as an application's
start-up or health check would.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import psycopg
from common import QUICK, SHIPPED, Cluster, median, table, verdict
from psycopg_pool import AsyncConnectionPool

import storedb
from storedb import aio


def run_bench(c: Cluster, work: Path, results: dict[str, Any]) -> list[str]:
    n, rounds = (50, 3) if QUICK else (200, 5)
    db = c.create_db("aio")
    dsn = c.dsn(db)
    storedb.migrate(dsn, directory=SHIPPED)
    sync_conn: list[float] = []
    async_conn: list[float] = []
    async_pool: list[float] = []
    sync_dsn: list[float] = []
    async_dsn: list[float] = []

    async def async_round(aconn: psycopg.AsyncConnection[Any],
                          pool: AsyncConnectionPool[Any]) -> None:
        for target, samples, count in ((aconn, async_conn, n), (pool, async_pool, n),
                                       (dsn, async_dsn, n // 10)):
            for _ in range(count):
                t = time.perf_counter()
                r = await aio.migrate(target, directory=SHIPPED)
                samples.append(time.perf_counter() - t)
                assert r.up_to_date

    async def main(conn: psycopg.Connection[Any]) -> None:
        async with await psycopg.AsyncConnection.connect(dsn) as aconn, \
                AsyncConnectionPool(dsn, min_size=1, max_size=1, open=False) as pool:
            for _ in range(rounds):
                for samples, target, count in ((sync_conn, conn, n), (sync_dsn, dsn, n // 10)):
                    for _ in range(count):
                        t = time.perf_counter()
                        storedb.migrate(target, directory=SHIPPED)
                        samples.append(time.perf_counter() - t)
                await async_round(aconn, pool)

    with psycopg.connect(dsn) as conn:
        for _ in range(20):
            storedb.migrate(conn, directory=SHIPPED)
        asyncio.run(main(conn))
    c.drop_db(db)
    out = {"sync_conn_ms": median(sync_conn) * 1000, "async_conn_ms": median(async_conn) * 1000,
           "async_pool_ms": median(async_pool) * 1000, "sync_dsn_ms": median(sync_dsn) * 1000,
           "async_dsn_ms": median(async_dsn) * 1000}
    out["ratio_conn"] = out["async_conn_ms"] / out["sync_conn_ms"]
    out["ratio_pool"] = out["async_pool_ms"] / out["sync_conn_ms"]
    out["ratio_dsn"] = out["async_dsn_ms"] / out["sync_dsn_ms"]
    results["aio"] = out
    return [table(
        f"10. storedb.aio up-to-date check vs sync (shipped SQL; median of {rounds} × {n} calls "
        f"given a connection, {rounds} × {n // 10} given a DSN; ms)",
        ["given", "sync ms", "async ms", "async / sync (≤ 1.2×)"],
        [["an open connection", f"{out['sync_conn_ms']:.3f}", f"{out['async_conn_ms']:.3f}",
          f"{out['ratio_conn']:.2f}× ({verdict(out['ratio_conn'] <= 1.2)})"],
         ["a pool (async) / an open connection (sync)", f"{out['sync_conn_ms']:.3f}",
          f"{out['async_pool_ms']:.3f}",
          f"{out['ratio_pool']:.2f}× ({verdict(out['ratio_pool'] <= 1.2)})"],
         ["a DSN", f"{out['sync_dsn_ms']:.2f}", f"{out['async_dsn_ms']:.2f}",
          f"{out['ratio_dsn']:.2f}× ({verdict(out['ratio_dsn'] <= 1.2)})"]])]
