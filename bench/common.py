"""Shared helpers: the throwaway cluster, fresh databases, timing and table printing."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from storedb import _local as local

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SHIPPED = ROOT / "infra" / "db"
PYTHON = sys.executable
QUICK = os.environ.get("BENCH_QUICK") == "1"  # smaller repeats/data, for trying changes


@dataclass
class Cluster:
    """One throwaway PostgreSQL cluster for the whole run (superuser postgres, Unix socket)."""

    tmp: Path
    socket_dir: str
    port: int
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={user} dbname={dbname}"

    def url(self, dbname: str, scheme: str = "postgresql") -> str:
        return f"{scheme}://postgres@/{dbname}?host={self.socket_dir}&port={self.port}"

    def admin(self) -> psycopg.Connection:  # type: ignore[type-arg]
        return psycopg.connect(self.dsn(), autocommit=True)

    def create_db(self, prefix: str = "b") -> str:
        name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        with self.admin() as conn:
            conn.execute(f'create database "{name}"')
        return name

    def drop_db(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')

    @contextlib.contextmanager
    def fresh_db(self, prefix: str = "b") -> Iterator[str]:
        name = self.create_db(prefix)
        try:
            yield name
        finally:
            self.drop_db(name)

    def psql(self, dbname: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir,
                               "-p", str(self.port), "-U", "postgres", "-d", dbname, *args],
                              capture_output=True, text=True, check=True)


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """Start a cluster of our own under a temp dir; stop it and delete it afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="storedb-bench-"))
    tmp.chmod(0o755)
    root = tmp / ".storedb"
    c = local.ensure_running(root, dbname="postgres")
    try:
        with psycopg.connect(f"host={c.socket_dir} port={local.PORT} user=postgres "
                             "dbname=postgres", autocommit=True) as conn:
            version = conn.execute("select version()").fetchone()[0]  # type: ignore[index]
        info["postgres"] = version
        yield Cluster(tmp=tmp, socket_dir=str(c.socket_dir), port=local.PORT)
    finally:
        local.stop(root)
        shutil.rmtree(tmp, ignore_errors=True)
        if c.home != c.root:
            shutil.rmtree(c.home, ignore_errors=True)


info: dict[str, str] = {}


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call takes."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def pct(xs: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def run(cmd: Sequence[str], **kw: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n"
                           f"{proc.stderr}")
    return proc  # type: ignore[no-any-return]


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-markdown table, printed and returned."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
        return str(v)
    lines = [f"\n### {title}\n", "| " + " | ".join(header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def storedb_files(directory: Path) -> list[Path]:
    """The files of a storedb SQL root in apply order (schema/ then migrations/)."""
    from storedb.runner._files import load_directory

    return [f.path for f in load_directory(directory)]


def applied_count(c: Cluster, dbname: str) -> int:
    with psycopg.connect(c.dsn(dbname)) as conn:
        row = conn.execute("select count(*) from storedb.schema_migrations").fetchone()
    return int(row[0]) if row else 0
