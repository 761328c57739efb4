"""8. The pytest plugin (storedb.testing): what a test using ``storedb_db`` costs.

Two views of the same thing:

* in-process, with the plugin's own functions: the first test's setup (start a
  throwaway cluster, migrate the template as the non-superuser owner, create
  the app role) and a clone + drop per test;
* as a user sees it: ``pytest`` in a process of its own over a suite of N
  trivial tests that each take ``storedb_db``, against one that takes nothing;
  the difference divided by N is the marginal cost of a test.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import QUICK, SHIPPED, Cluster, median, pct, table, verdict

from storedb.testing import _server

SUITE = '''
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_db(storedb_db, i):
    pass
'''


def _pytest_wall(directory: Path, n: int) -> float:
    (directory / "test_x.py").write_text(SUITE.format(n=n))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                           "-p", "no:cacheprovider", str(directory)], capture_output=True,
                          text=True, cwd=directory)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout + proc.stderr)
    return wall


def run_bench(c: Cluster, work: Path, results: dict[str, Any]) -> list[str]:
    rounds = 2 if QUICK else 3
    setups, clones = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        server = _server.start_cluster()
        try:
            with _server.template_on(server, SHIPPED, None) as template:
                setups.append(time.perf_counter() - t)
                for _ in range(10 if QUICK else 30):
                    t = time.perf_counter()
                    template.drop(template.clone())
                    clones.append(time.perf_counter() - t)
        finally:
            server.stop()
    n = 10 if QUICK else 30
    suite = work / "plugin-suite"
    suite.mkdir(exist_ok=True)
    base = median([_pytest_wall(suite, 0) for _ in range(rounds)])
    full = median([_pytest_wall(suite, n) for _ in range(rounds)])
    # a suite of zero storedb tests starts no cluster: take the first test's setup out too
    marginal = (full - base - median(setups)) / n
    out = {"first_setup_s": median(setups), "clone_drop_ms_p50": median(clones) * 1000,
           "clone_drop_ms_p95": pct(clones, 95) * 1000, "pytest_tests": n,
           "pytest_wall_empty_s": base, "pytest_wall_n_s": full,
           "pytest_marginal_ms": marginal * 1000}
    results["testing"] = out
    return [table(
        f"8. pytest plugin: a test using storedb_db (median of {rounds} sessions, shipped SQL)",
        ["first test's setup: cluster + template s (≤ 3)", "clone + drop p50 ms (≤ 150)",
         "p95 ms", f"pytest, {n} tests vs none: marginal ms per test (≤ 150)"],
        [[f"{out['first_setup_s']:.2f} ({verdict(out['first_setup_s'] <= 3)})",
          f"{out['clone_drop_ms_p50']:.0f} ({verdict(out['clone_drop_ms_p50'] <= 150)})",
          f"{out['clone_drop_ms_p95']:.0f}",
          f"{out['pytest_marginal_ms']:.0f} ({verdict(out['pytest_marginal_ms'] <= 150)})"]])]
