"""10. A large file (issue 10): splitting is linear, and applying it is no slower than psql.

A generated pg_dump-shaped file of 60,000 lines and 15,000 statements (some
non-ASCII text, dollar-quoted bodies, ``;`` inside strings and comments):

* split: storedb's parse of the file (PostgreSQL's parser through pglast,
  positions from a line table), target <= 0.5 s;
* apply: ``storedb.migrate`` against ``psql -X -v ON_ERROR_STOP=1
  --single-transaction -f FILE`` on fresh databases, target <= 1.0x.
"""

from __future__ import annotations

import time
from pathlib import Path

import corpus
from common import QUICK, Cluster, applied_count, median, table, verdict

import storedb
from storedb.runner._files import load_file
from storedb.runner._statements import split


def run_bench(c: Cluster, work: Path, results: dict[str, object]) -> list[str]:
    root = work / "bigdump"
    (root / "migrations").mkdir(parents=True, exist_ok=True)
    path = corpus.dump(root / "migrations" / "001_dump.sql")
    text = path.read_text()
    lines, size = text.count("\n"), len(text.encode())
    f = load_file("migrations/001_dump.sql", "migrations", 1, str(path))
    split_times = []
    for _ in range(3 if QUICK else 5):
        t = time.perf_counter()
        statements = split(f)
        split_times.append(time.perf_counter() - t)
    # scaling: the same shape at 1/4 and 1/2 the size, to show the growth is linear
    scaling = {}
    for n in (3_750, 7_500):
        small = load_file("x", "migrations", 1, str(corpus.dump(work / f"dump{n}.sql", n, 4 * n)))
        t = time.perf_counter()
        split(small)
        scaling[n] = time.perf_counter() - t
    reps = 1 if QUICK else 3
    times: dict[str, list[float]] = {"psql": [], "storedb": []}
    for rep in range(reps):
        order = ["psql", "storedb"] if rep % 2 == 0 else ["storedb", "psql"]
        for way in order:
            with c.fresh_db("big") as db:
                t = time.perf_counter()
                if way == "psql":
                    c.psql(db, "--single-transaction", "-f", str(path))
                else:
                    storedb.migrate(c.dsn(db), directory=root)
                times[way].append(time.perf_counter() - t)
                if way == "storedb":
                    assert applied_count(c, db) == 1
    m_split = median(split_times)
    m = {k: median(v) for k, v in times.items()}
    ratio = m["storedb"] / m["psql"]
    results["split"] = {"lines": lines, "statements": len(statements), "bytes": size,
                        "split_s": split_times, "split_median_s": m_split,
                        "split_scaling_s": {**scaling, 15_000: m_split},
                        "apply_s": times, "apply_median_s": m, "storedb_vs_psql": ratio,
                        "target_split": m_split <= 0.5, "target_apply": ratio <= 1.0}
    rows = [[f"split ({lines} lines, {len(statements)} statements, {size / 1e6:.1f} MB)",
             f"{m_split * 1000:.0f} ms", "≤ 500 ms", verdict(m_split <= 0.5)],
            ["split scaling 3,750 / 7,500 / 15,000 statements",
             " / ".join(f"{scaling[n] * 1000:.0f}" for n in (3_750, 7_500))
             + f" / {m_split * 1000:.0f} ms", "linear", ""],
            [f"apply: psql --single-transaction / storedb (median of {reps})",
             f"{m['psql']:.2f} s / {m['storedb']:.2f} s = {ratio:.2f}×", "≤ 1.0×",
             verdict(ratio <= 1.0)]]
    return [table("10. A 60,000-line, 15,000-statement file", ["what", "measured", "target", ""],
                  rows)]
