"""6. Growth: migrate and status cost per file for 10, 100 and 1,000 tiny files."""

from __future__ import annotations

import time
from pathlib import Path

import corpus
import psycopg
from common import QUICK, Cluster, median, table, verdict

import storedb

SIZES = (10, 100, 1000)


def run_bench(c: Cluster, work: Path, results: dict[str, object]) -> list[str]:
    reps, status_reps = (1, 3) if QUICK else (3, 7)
    out: dict[str, dict[str, float]] = {}
    for n in SIZES:
        root = corpus.tiny(work / f"growth{n}", n)
        files = sorted((root / "migrations").glob("*.sql"))
        mig, st, base = [], [], []
        for _ in range(reps):
            with c.fresh_db("growth") as db:  # the baseline: psql on the same files
                t = time.perf_counter()
                c.psql(db, "--single-transaction", *[a for f in files for a in ("-f", str(f))])
                base.append(time.perf_counter() - t)
            with c.fresh_db("growth") as db:
                t = time.perf_counter()
                storedb.migrate(c.dsn(db), directory=root)
                mig.append(time.perf_counter() - t)
                with psycopg.connect(c.dsn(db)) as conn:
                    for _ in range(status_reps):
                        t = time.perf_counter()
                        s = storedb.status(conn, directory=root)
                        st.append(time.perf_counter() - t)
                assert len(s.entries) == n
        out[str(n)] = {"migrate_s": median(mig), "status_s": median(st), "psql_s": median(base),
                       "overhead_ms_per_file": (median(mig) - median(base)) * 1000 / n,
                       "migrate_ms_per_file": median(mig) * 1000 / n,
                       "status_ms_per_file": median(st) * 1000 / n}
    rows = []
    for k, n in enumerate(SIZES):
        o = out[str(n)]
        marg_m = marg_s = ""
        if k:
            p, prev = out[str(SIZES[k - 1])], SIZES[k - 1]
            o["migrate_marginal_ms_per_file"] = ((o["migrate_s"] - p["migrate_s"]) * 1000
                                                 / (n - prev))
            o["status_marginal_ms_per_file"] = (o["status_s"] - p["status_s"]) * 1000 / (n - prev)
            marg_m = f"{o['migrate_marginal_ms_per_file']:.3f}"
            marg_s = f"{o['status_marginal_ms_per_file']:.4f}"
        rows.append([n, f"{o['psql_s'] * 1000:.0f}", f"{o['migrate_s'] * 1000:.0f}",
                     f"{o['overhead_ms_per_file']:.3f}", f"{o['migrate_ms_per_file']:.3f}", marg_m,
                     f"{o['status_s'] * 1000:.2f}", f"{o['status_ms_per_file']:.4f}", marg_s])
    # Flat = the cost of each extra file between 100 and 1,000 is no more than 1.5× that
    # between 10 and 100 (fixed costs such as connecting make the plain average fall with n).
    # storedb's own cost per file is what must stay flat: the server's cost of creating
    # the n-th table grows with the catalog for psql just the same.
    a, b = out["100"], out["1000"]
    flat_m = b["overhead_ms_per_file"] <= 1.5 * max(a["overhead_ms_per_file"], 0.05)
    flat_s = b["status_marginal_ms_per_file"] <= 1.5 * max(a["status_marginal_ms_per_file"], 1e-6)
    results["growth"] = {"sizes": out, "migrate_flat": flat_m, "status_flat": flat_s}
    return [table(f"6. Growth with tiny files (migrate: median of {reps} from empty, given a "
                  f"DSN; status: median of {status_reps}, open connection)",
                  ["files", "psql ms (same files)", "migrate ms",
                   "storedb − psql, ms/file", "ms/file", "marginal ms/file", "status ms",
                   "ms/file", "marginal ms/file"], rows)
            + f"\n\nstoredb's own per-file cost (storedb − psql) flat: {verdict(flat_m)}; "
              f"status per-file cost flat: {verdict(flat_s)} "
              "(at 1,000 files ≤ 1.5× at 100; status: marginal 100→1,000 ≤ 1.5× 10→100)"]
