"""3. Stampede: 16 processes call storedb.migrate at the same moment on a fresh database.

Each worker is a separate interpreter (multiprocessing 'spawn') that has
already imported storedb and waits on a barrier, so the clock measures the
migrate() calls, not 16 interpreters starting on 2 cores.  A second table
launches 16 whole ``python -m storedb migrate`` processes at once.
"""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
from common import PYTHON, QUICK, SHIPPED, Cluster, median, table, verdict


def _worker(dsn: str, directory: str, barrier: Any, queue: Any) -> None:
    import storedb

    barrier.wait(timeout=120)
    start = time.monotonic()
    try:
        result = storedb.migrate(dsn, directory=directory)
        queue.put((start, time.monotonic(), len(result.applied), None))
    except Exception as exc:
        queue.put((start, time.monotonic(), 0, repr(exc)))


def _once(c: Cluster, n: int) -> tuple[float, int, int, int, list[str]]:
    """(wall s, files applied in total, history rows, distinct names, errors) for n workers."""
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(n + 1), ctx.Queue()
    with c.fresh_db("stampede") as db:
        procs = [ctx.Process(target=_worker, args=(c.dsn(db), str(SHIPPED), barrier, queue))
                 for _ in range(n)]
        for p in procs:
            p.start()
        barrier.wait(timeout=120)
        released = time.monotonic()
        got = [queue.get(timeout=120) for _ in range(n)]
        for p in procs:
            p.join()
        with psycopg.connect(c.dsn(db)) as conn:
            rows, distinct = conn.execute(  # type: ignore[misc]
                "select count(*), count(distinct filename) from storedb.schema_migrations"
            ).fetchone()
    wall = max(end for _, end, _, _ in got) - released
    errors = [e for *_, e in got if e]
    return wall, sum(a for _, _, a, _ in got), rows, distinct, errors


def _processes(c: Cluster, n: int) -> float:
    with c.fresh_db("stampede") as db:
        cmd = [PYTHON, "-m", "storedb", "migrate", "-q", "--dsn", c.dsn(db), "--dir", str(SHIPPED)]
        t = time.perf_counter()
        procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(n)]
        codes = [p.wait() for p in procs]
        wall = time.perf_counter() - t
        assert codes == [0] * n, [p.stderr.read() for p in procs if p.stderr]
    return wall


def run_bench(c: Cluster, work: Path, results: dict[str, object]) -> list[str]:
    reps = 2 if QUICK else 5
    files = len([p for p in SHIPPED.glob("*/*.sql") if p.parent.name != "seed"])
    single, crowd, checks = [], [], []
    for _ in range(reps):
        for n, bucket in ((1, single), (16, crowd)):
            wall, applied, rows, distinct, errors = _once(c, n)
            bucket.append(wall)
            checks.append(applied == files and rows == files and distinct == files and not errors)
            if errors:
                print(f"stampede errors ({n} workers):", errors[:3])
    p_single, p_crowd = [], []
    for _ in range(max(2, reps - 2)):
        p_single.append(_processes(c, 1))
        p_crowd.append(_processes(c, 16))
    ratio = median(crowd) / median(single)
    p_ratio = median(p_crowd) / median(p_single)
    results["stampede"] = {"single_s": single, "sixteen_s": crowd, "ratio": ratio,
                           "exactly_once": all(checks), "target_met": ratio <= 1.5,
                           "process_single_s": p_single, "process_sixteen_s": p_crowd,
                           "process_ratio": p_ratio}
    return [table(f"3. Stampede on a fresh database, shipped SQL (median of {reps})",
                  ["", "1 caller ms", "16 callers ms", "16 / 1 (≤ 1.5×)",
                   "every file applied exactly once"],
                  [["storedb.migrate() in 16 warm processes, released together",
                    f"{median(single) * 1000:.0f}", f"{median(crowd) * 1000:.0f}",
                    f"{ratio:.2f}× ({verdict(ratio <= 1.5)})",
                    "yes" if all(checks) else "NO"],
                   [f"16 × python -m storedb migrate launched at once (median of {len(p_single)};"
                    " includes 16 interpreters starting on the machine's cores)",
                    f"{median(p_single) * 1000:.0f}", f"{median(p_crowd) * 1000:.0f}",
                    f"{p_ratio:.2f}× (informative)", "exit 0 everywhere"]])]
