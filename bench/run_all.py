"""storedb benchmarks (issue 6): ``make bench`` runs this file.

Starts a throwaway PostgreSQL cluster of its own, runs every benchmark,
prints the tables, writes bench/results.json and bench/chart.png, and stops
and deletes the cluster (also on Ctrl-C / SIGTERM).

    python bench/run_all.py                # everything (about 10 minutes)
    python bench/run_all.py noop split     # any of: apply noop stampede dao aio testing growth
                                           # peers split queries writes offboard lint
    BENCH_QUICK=1 python bench/run_all.py  # fewer repeats and smaller data, to try a change
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_aio
import bench_apply
import bench_growth
import bench_lint
import bench_noop
import bench_offboard
import bench_peers
import bench_queries
import bench_split
import bench_stampede
import bench_tenant_dao
import bench_testing
import bench_writes
import chart
import common

# The 1 M / 2 M-row queries run last: the checkpoints after generating that much data
# would otherwise slow whatever comes next.
BENCHMARKS = {"apply": bench_apply, "noop": bench_noop, "stampede": bench_stampede,
              "dao": bench_tenant_dao, "aio": bench_aio, "testing": bench_testing,
              "growth": bench_growth, "peers": bench_peers, "split": bench_split,
              "queries": bench_queries, "writes": bench_writes, "offboard": bench_offboard,
              "lint": bench_lint}


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version(),
            "kernel": platform.release(),
            "psql": subprocess.run(["psql", "--version"], capture_output=True,
                                   text=True).stdout.strip()}


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    chosen = argv or list(BENCHMARKS)
    unknown = [a for a in chosen if a not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
        return 2
    started = time.perf_counter()
    results: dict[str, object] = {"machine": machine(), "quick": common.QUICK}
    print("machine:", results["machine"], flush=True)
    tables: list[str] = []
    failed = []
    work = Path(tempfile.mkdtemp(prefix="storedb-bench-work-"))
    try:
        with common.cluster() as c:
            results["machine"]["postgres"] = common.info["postgres"]  # type: ignore[index]
            for name in chosen:
                t = time.perf_counter()
                print(f"\n== {name} ...", flush=True)
                try:
                    tables += BENCHMARKS[name].run_bench(c, work, results)
                except Exception:
                    failed.append(name)
                    traceback.print_exc()
                print(f"   ({name}: {time.perf_counter() - t:.0f} s)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - started
    results["total_wall_s"] = total
    results["failed"] = failed
    out = common.BENCH
    if set(chosen) != set(BENCHMARKS) and (out / "results.json").exists():
        # a partial run updates its own figures and keeps the others
        merged = json.loads((out / "results.json").read_text())
        merged.update({k: v for k, v in results.items() if k != "total_wall_s"})
        merged["partial_rerun"] = {"benchmarks": chosen, "wall_s": total}
        results = merged
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    chart.draw(results, out / "chart.png")
    (out / "out").mkdir(exist_ok=True)
    (out / "out" / "tables.md").write_text("\n\n".join(tables) + "\n")
    print(f"\ntotal wall time {total:.0f} s; failed: {failed or 'none'}; tables in "
          f"bench/out/tables.md")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
