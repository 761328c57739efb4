"""9. Static lint of 200 files: target <= 0.5 s (no database involved).

The 200-file realistic corpus (tables, indexes, functions, DO blocks, ...) is
linted in-process with ``lint(all_files=True)``, repeated in one process (the
target applies to this figure), and once per fresh process with the imports
(pglast, storedb.runner and psycopg) inside the measurement, for information.
The shipped SQL is timed the same way for scale.  Runnable alone:
``python bench/bench_lint.py``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import corpus
from common import PYTHON, QUICK, SHIPPED, median, table, verdict

TARGET_S = 0.5


def measure(root: Path, repeats: int) -> dict[str, float]:
    from storedb.lint import lint

    samples = []
    findings = 0
    for _ in range(repeats):
        t = time.perf_counter()
        result = lint(all_files=True, directory=root)
        samples.append(time.perf_counter() - t)
        findings = len(result.findings)
    code = ("import time; t = time.perf_counter(); from storedb.lint import lint; "
            f"r = lint(all_files=True, directory={str(root)!r}); "
            "print(time.perf_counter() - t)")
    cold = [float(subprocess.run([PYTHON, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(3 if QUICK else 5)]
    return {"warm_s_median": median(samples), "warm_s_min": min(samples),
            "cold_s_median": median(cold),
            "files": float(len(result.files)), "findings": float(findings)}


def run_bench(c: object, work: Path, results: dict[str, object]) -> list[str]:
    root = corpus.realistic(work / "lint200", 200)
    repeats = 5 if QUICK else 20
    out = {"200 files": measure(root, repeats), "shipped": measure(SHIPPED, repeats)}
    results["lint"] = {**out, "target_s": TARGET_S,
                       "met": out["200 files"]["warm_s_median"] <= TARGET_S}
    rows = [(label, int(r["files"]), int(r["findings"]), r["warm_s_median"] * 1000,
             r["warm_s_min"] * 1000, r["cold_s_median"] * 1000,
             verdict(r["warm_s_median"] <= TARGET_S) if label == "200 files" else "")
            for label, r in out.items()]
    return [table("9. Static lint (no database)",
                  ["SQL", "files", "findings", "in-process median ms", "min ms",
                   "fresh process incl. imports ms", "<= 0.5 s"], rows)]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        res: dict[str, object] = {}
        run_bench(None, Path(tmp), res)
        print(res["lint"])
        sys.exit(0)
