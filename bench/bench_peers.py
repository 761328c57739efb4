"""7. Peers: storedb, yoyo-migrations and dbmate as whole processes, on the same files.

yoyo gets the files copied flat in apply order; dbmate gets converted copies
with ``-- migrate:up`` markers.  dbmate comes from npm (``npm install --prefix
~/.cache/storedb-bench/tools dbmate``, done here when npm exists); without npm it is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import corpus
from common import PYTHON, QUICK, SHIPPED, Cluster, median, run, table

# Fetched tools live outside the repository: nothing binary is ever committed.
TOOLS = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "storedb-bench" / "tools"


def _dbmate() -> Path | None:
    exe = TOOLS / "node_modules" / ".bin" / "dbmate"
    if not exe.exists() and shutil.which("npm"):
        subprocess.run(["npm", "install", "--silent", "--prefix", str(TOOLS), "dbmate"],
                       capture_output=True, text=True, timeout=300)
    return exe if exe.exists() else None


def _yoyo_noop_library(url: str, flat: Path, n: int) -> dict[str, float]:
    from yoyo import get_backend, read_migrations

    backend = get_backend(url)
    migrations = read_migrations(str(flat))
    for _ in range(5):
        backend.to_apply(migrations)
    check, full = [], []
    for _ in range(n):
        t = time.perf_counter()
        backend.to_apply(migrations)
        check.append(time.perf_counter() - t)
        t = time.perf_counter()
        backend.to_apply(read_migrations(str(flat)))
        full.append(time.perf_counter() - t)
    return {"to_apply_ms": median(check) * 1000, "read_and_to_apply_ms": median(full) * 1000}


def _objects(c: Cluster, db: str) -> tuple[int, int]:
    """Tables and functions in public, not counting the tools' own history tables."""
    out = c.psql(db, "-At", "-c", "select (select count(*) from pg_class where relkind = 'r' and "
                 "relnamespace = 'public'::regnamespace and relname !~ '^(_?yoyo|schema_mig)'),"
                 " (select count(*) from pg_proc where pronamespace = 'public'::regnamespace)")
    a, b = out.stdout.strip().split("|")
    return int(a), int(b)


def run_bench(c: Cluster, work: Path, results: dict[str, object]) -> list[str]:
    reps, noop_reps = (1, 3) if QUICK else (3, 5)
    dbmate = _dbmate()
    yoyo = str(Path(PYTHON).parent / "yoyo")
    roots = {"shipped SQL (6 files)": SHIPPED,
             "generated corpus (200 files)": corpus.realistic(work / "corpus200", 200)}
    out: dict[str, object] = {}
    rows = []
    notes = [] if dbmate else ["dbmate skipped: npm is not installed."]
    for label, root in roots.items():
        flat = work / f"yoyo-{root.name}"
        corpus.as_flat(root, flat)
        dm = work / f"dbmate-{root.name}"
        corpus.as_dbmate(root, dm)
        files = corpus._ordered(root)
        tools = {
            "psql --single-transaction": lambda db, files=files: c.psql(
                db, "--single-transaction", *[a for f in files for a in ("-f", str(f))]),
            "python -m storedb migrate": lambda db, root=root: run(
                [PYTHON, "-m", "storedb", "migrate", "-q", "--dsn", c.dsn(db), "--dir",
                 str(root)]),
            "yoyo apply --batch": lambda db, flat=flat: run(
                [yoyo, "apply", "--batch", "--no-config-file", "--database",
                 c.url(db, "postgresql+psycopg"), str(flat)]),
        }
        if dbmate:
            tools["dbmate migrate"] = lambda db, dm=dm: run(
                [str(dbmate), "--url", f"postgres://postgres@/{db}?socket={c.socket_dir}"
                 f"&port={c.port}&sslmode=disable", "--migrations-dir", str(dm),
                 "--no-dump-schema", "migrate"])
        per: dict[str, object] = {}
        expected: tuple[int, int] | None = None
        for name, fn in tools.items():
            apply, noop, error = [], [], None
            for _ in range(reps):
                with c.fresh_db("peer") as db:
                    try:
                        t = time.perf_counter()
                        fn(db)
                        apply.append(time.perf_counter() - t)
                        made = _objects(c, db)
                        if expected is None:
                            expected = made
                        elif made != expected:
                            raise RuntimeError(f"created {made} (tables, functions), "
                                               f"psql created {expected}")
                        if not name.startswith("psql"):
                            for _ in range(noop_reps if not noop else 0):
                                t = time.perf_counter()
                                fn(db)
                                noop.append(time.perf_counter() - t)
                        if name.startswith("yoyo") and "yoyo_library_noop" not in per:
                            per["yoyo_library_noop"] = _yoyo_noop_library(
                                c.url(db, "postgresql+psycopg"), flat, 50 if QUICK else 200)
                    except (RuntimeError, subprocess.CalledProcessError) as exc:
                        error = str(exc).strip().splitlines()[-1][:160]
                        break
            per[name] = {"apply_s": apply, "noop_s": noop, "error": error}
            rows.append([label, name,
                         f"{median(apply) * 1000:.0f}" if apply else f"failed: {error}",
                         f"{median(noop) * 1000:.0f}" if noop else "—"])
        out[label] = per
        yl = per.get("yoyo_library_noop")
        if isinstance(yl, dict):
            notes.append(f"yoyo as a library, up to date ({label}): to_apply() "
                         f"{yl['to_apply_ms']:.2f} ms; read_migrations() + to_apply() "
                         f"{yl['read_and_to_apply_ms']:.2f} ms (median)")
    results["peers"] = out
    return [table(f"7. Peers as whole processes (apply: median of {reps} from empty; "
                  f"no-op re-run: median of {noop_reps}; ms)",
                  ["files", "tool", "apply from empty", "no-op re-run"], rows)
            + ("\n\n" + "\n".join(f"- {n}" for n in notes) if notes else "")]
