"""4. Tenant DAO throughput: storedb.create_tenant through a pool vs pgbench, 4 clients.

Both run as the superuser ``postgres`` (simplest: no role setup; RLS does not
apply to a superuser, and create_tenant is SECURITY DEFINER anyway); the DAO
refuses a role that bypasses RLS unless told, hence ``allow_bypass=True``.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from pathlib import Path

from common import QUICK, SHIPPED, Cluster, median, run, table, verdict
from psycopg_pool import ConnectionPool

import storedb

CLIENTS = 4
SCRIPT = "select create_tenant('s' || :client_id || '-' || md5(random()::text), 'name');\n"


def _storedb(dsn: str, seconds: float) -> float:
    with ConnectionPool(dsn, min_size=CLIENTS, max_size=CLIENTS, open=True) as pool:
        pool.wait()
        counts = [0] * CLIENTS
        stop = time.perf_counter() + seconds

        def work(k: int) -> None:
            while time.perf_counter() < stop:
                storedb.create_tenant(pool, subdomain=f"t{k}-{uuid.uuid4().hex[:20]}",
                                      name="name", allow_bypass=True)
                counts[k] += 1

        for k in range(CLIENTS):  # warm-up: prepared statements, plan caches
            storedb.create_tenant(pool, subdomain=f"w{k}-{uuid.uuid4().hex[:20]}", name="w",
                                  allow_bypass=True)
        t = time.perf_counter()
        threads = [threading.Thread(target=work, args=(k,)) for k in range(CLIENTS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return sum(counts) / (time.perf_counter() - t)


def _pgbench(c: Cluster, db: str, script: Path, seconds: float) -> float:
    out = run(["pgbench", "-n", "-f", str(script), "-c", str(CLIENTS), "-j", "2",
               "-T", str(int(seconds)), "-h", c.socket_dir, "-p", str(c.port), "-U", "postgres",
               db]).stdout
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    assert match, out
    return float(match.group(1))


def run_bench(c: Cluster, work: Path, results: dict[str, object]) -> list[str]:
    seconds, rounds = (3, 1) if QUICK else (6, 3)
    script = work / "create_tenant.sql"
    script.write_text(SCRIPT)
    ours, theirs = [], []
    with c.fresh_db("dao") as db:
        storedb.migrate(c.dsn(db), directory=SHIPPED)
        for _ in range(rounds):  # alternate, so both see the same machine noise and table size
            theirs.append(_pgbench(c, db, script, seconds))
            ours.append(_storedb(c.dsn(db), seconds))
    ratio = median(ours) / median(theirs)
    results["tenant_dao"] = {"storedb_per_s": ours, "pgbench_tps": theirs, "ratio": ratio,
                             "target_met": ratio >= 0.8, "seconds_per_round": seconds,
                             "role": "postgres (superuser)"}
    return [table(f"4. create_tenant throughput, {CLIENTS} clients, superuser "
                  f"(median of {rounds} × {seconds} s)",
                  ["storedb.create_tenant via ConnectionPool (4 threads) /s",
                   "pgbench -c 4 -j 2 select create_tenant(...) tps", "ratio (≥ 0.8×)"],
                  [[f"{median(ours):.0f}", f"{median(theirs):.0f}",
                    f"{ratio:.2f}× ({verdict(ratio >= 0.8)})"]])]
