"""2. Start-up check when up to date: in-process migrate() cost and its round trips.

Round trips are counted at the wire: libpq's protocol trace (PQtrace) logs
every message the client sends, and each simple ``Query`` or extended-protocol
``Sync`` message is one round trip to the server.  A psycopg Connection
subclass also counts ``execute`` calls as a cross-check.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import corpus
import psycopg
from common import PYTHON, QUICK, SHIPPED, Cluster, median, pct, run, table, verdict
from psycopg import pq

import storedb


class CountingConnection(psycopg.Connection[Any]):
    """Counts execute() calls made on the connection and on its cursors."""

    calls = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        CountingConnection.calls += 1
        return super().execute(*args, **kwargs)


def round_trips(conn: psycopg.Connection[Any], fn: Any) -> tuple[int, list[str]]:
    """(round trips, message types sent) while fn() runs, from libpq's protocol trace."""
    fd, path = tempfile.mkstemp(prefix="storedb-trace-")
    try:
        conn.pgconn.trace(fd)
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        fn()
        conn.pgconn.untrace()
        os.close(fd)
        sent = [line.split("\t")[2] for line in Path(path).read_text().splitlines()
                if line.split("\t")[:1] == ["F"]]
    finally:
        os.unlink(path)
    return sum(1 for m in sent if m in ("Query", "Sync")), sent


def prepare(c: Cluster, work: Path) -> dict[str, tuple[Path, str]]:
    """Databases with everything applied: shipped SQL, 200 realistic files, 1,000 tiny files."""
    roots = {"shipped SQL (6 files)": SHIPPED,
             "200 files (generated corpus)": corpus.realistic(work / "corpus200", 200),
             "1,000 files (tiny)": corpus.tiny(work / "tiny1000", 1000)}
    out = {}
    for label, root in roots.items():
        db = c.create_db("noop")
        storedb.migrate(c.dsn(db), directory=root)
        out[label] = (root, db)
    return out


def run_bench(c: Cluster, work: Path, results: dict[str, object]) -> list[str]:
    n_conn, n_dsn, n_proc = (50, 10, 3) if QUICK else (400, 40, 10)
    dbs = prepare(c, work)
    rows, out = [], {}
    for label, (root, db) in dbs.items():
        conn = CountingConnection.connect(c.dsn(db))  # as an application holds it: not autocommit
        for _ in range(10):
            storedb.migrate(conn, directory=root)
        samples = []
        for _ in range(n_conn):
            t = time.perf_counter()
            r = storedb.migrate(conn, directory=root)
            samples.append(time.perf_counter() - t)
        assert r.up_to_date
        cold = []  # the first check of a process: no cached checksums, every file read
        for _ in range(max(10, n_conn // 4)):
            storedb.runner._files._checksums.clear()
            t = time.perf_counter()
            storedb.migrate(conn, directory=root)
            cold.append(time.perf_counter() - t)
        CountingConnection.calls = 0
        trips, sent = round_trips(conn, lambda conn=conn, root=root: storedb.migrate(
            conn, directory=root))
        executes = CountingConnection.calls
        conn.close()
        dsn_samples = []
        for _ in range(n_dsn):
            t = time.perf_counter()
            storedb.migrate(c.dsn(db), directory=root)
            dsn_samples.append(time.perf_counter() - t)
        connect_only = []
        for _ in range(n_dsn):
            t = time.perf_counter()
            psycopg.connect(c.dsn(db), autocommit=True).close()
            connect_only.append(time.perf_counter() - t)
        target_ms = 0.5 if root == SHIPPED else 2.0 if "200" in label else None
        med = median(samples) * 1000
        out[label] = {"open_connection_ms_median": med, "open_connection_ms_p95":
                      pct(samples, 95) * 1000, "dsn_ms_median": median(dsn_samples) * 1000,
                      "connect_only_ms_median": median(connect_only) * 1000,
                      "cold_ms_median": median(cold) * 1000,
                      "round_trips": trips, "messages_sent": sent, "execute_calls": executes,
                      "target_ms": target_ms,
                      "target_met": None if target_ms is None else med <= target_ms}
        rows.append([label, f"{med:.3f}", f"{pct(samples, 95) * 1000:.3f}",
                     f"{median(cold) * 1000:.3f}",
                     "—" if target_ms is None else f"≤ {target_ms} ({verdict(med <= target_ms)})",
                     f"{trips} ({verdict(trips <= 2)})", executes,
                     f"{median(dsn_samples) * 1000:.2f}", f"{median(connect_only) * 1000:.2f}"])
    # The whole process: interpreter, imports, connect, check, exit.
    root, db = dbs["shipped SQL (6 files)"]
    cmd = [PYTHON, "-m", "storedb", "migrate", "-q", "--dsn", c.dsn(db), "--dir", str(root)]
    run(cmd)
    proc, bare, psql = [], [], []
    for _ in range(n_proc):
        proc.append(_wall(cmd))
        bare.append(_wall([PYTHON, "-c", "pass"]))
        psql.append(_wall(["psql", "-X", "-q", "-d", c.dsn(db), "-c", "select 1"]))
    pm = median(proc)
    out["process_noop"] = {"storedb_s_median": pm, "python_bare_s_median": median(bare),
                           "psql_select1_s_median": median(psql), "samples_s": proc,
                           "target_met": pm <= 0.20}
    results["noop"] = out
    return [
        table(f"2. Up-to-date check, in-process (median of {n_conn} calls given an open "
              f"connection; {n_dsn} given a DSN)",
              ["applied files", "open conn: median ms", "p95 ms",
               "first call of a process (files read, no cache): median ms", "target ms",
               "round trips (≤ 2)", "execute() calls", "given a DSN: median ms",
               "(of which connect: ms)"], rows),
        table(f"2b. Up-to-date check as a process (median of {n_proc})",
              ["command", "wall ms"],
              [["python -m storedb migrate (shipped SQL, up to date)",
                f"{pm * 1000:.0f} (≤ 200: {verdict(pm <= 0.20)})"],
               ["python -c pass (interpreter alone)", f"{median(bare) * 1000:.0f}"],
               ["psql -c 'select 1' (connect + one query)", f"{median(psql) * 1000:.0f}"]]),
    ]


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    run(cmd)
    return time.perf_counter() - t
