"""1. Apply from empty: storedb (library and process) against psql on the same files."""

from __future__ import annotations

import time
from pathlib import Path

import corpus
from common import (
    PYTHON,
    QUICK,
    SHIPPED,
    Cluster,
    applied_count,
    median,
    run,
    storedb_files,
    table,
    verdict,
)

import storedb


def _psql(c: Cluster, db: str, files: list[Path]) -> None:
    args = [a for f in files for a in ("-f", str(f))]
    c.psql(db, "--single-transaction", *args)


def corpora(work: Path) -> dict[str, Path]:
    return {"shipped SQL (6 files)": SHIPPED,
            "generated corpus (200 files)": corpus.realistic(work / "corpus200", 200)}


def run_bench(c: Cluster, work: Path, results: dict[str, object]) -> list[str]:
    reps = 2 if QUICK else 5
    out: dict[str, object] = {}
    rows = []
    for label, root in corpora(work).items():
        files = storedb_files(root)
        with c.fresh_db() as db:  # warm-up: imports (pglast, psycopg) and the OS page cache
            storedb.migrate(c.dsn(db), directory=root)
        ways = {
            "psql": lambda db, files=files: _psql(c, db, files),
            "library": lambda db, root=root: storedb.migrate(c.dsn(db), directory=root),
            "process": lambda db, root=root: run([PYTHON, "-m", "storedb", "migrate", "-q",
                                                  "--dsn", c.dsn(db), "--dir", str(root)]),
        }
        times: dict[str, list[float]] = {k: [] for k in ways}
        names = list(ways)
        for rep in range(reps):
            for name in names[rep % 3:] + names[:rep % 3]:  # rotate the order every repetition
                with c.fresh_db() as db:
                    t = time.perf_counter()
                    ways[name](db)
                    times[name].append(time.perf_counter() - t)
                    if name != "psql":
                        assert applied_count(c, db) == len(files), (name, label)
        m = {k: median(v) for k, v in times.items()}
        lib_ratio = m["library"] / m["psql"]
        proc_extra = m["process"] - m["psql"]
        out[label] = {"files": len(files), "median_s": m, "samples_s": times,
                      "library_vs_psql": lib_ratio, "process_minus_psql_s": proc_extra,
                      "target_library": lib_ratio <= 1.05, "target_process": proc_extra <= 0.25}
        rows.append([label, f"{m['psql'] * 1000:.0f}", f"{m['library'] * 1000:.0f}",
                     f"{m['process'] * 1000:.0f}",
                     f"{lib_ratio:.2f}× ({verdict(lib_ratio <= 1.05)})",
                     f"{proc_extra * 1000:+.0f} ms ({verdict(proc_extra <= 0.25)})"])
    results["apply"] = out
    return [table(f"1. Apply from empty (median of {reps}, fresh database each, ms)",
                  ["files", "psql --single-transaction", "storedb.migrate (library)",
                   "python -m storedb migrate", "library / psql (≤ 1.05×)",
                   "process − psql (≤ +250 ms)"], rows)]
