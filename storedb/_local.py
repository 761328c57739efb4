"""The local development database: a PostgreSQL cluster storedb starts itself.

With no --dsn, DATABASE_URL or PG* variables, commands use a cluster under
``./.storedb/`` that is created on first use and reused afterwards.  It
listens on a Unix socket only, so it never clashes with another server.  As
root, ``initdb`` refuses to run, so the cluster runs as the unprivileged
``postgres`` user, in directories that user can reach.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import pwd
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import LocalClusterError

PORT = 5432
DBNAME = "storedb"
SUPERUSER = "postgres"
_SOCKET_MAX = 100  # Unix socket paths are limited to 107 bytes, .s.PGSQL.5432 included


@dataclass(frozen=True)
class LocalCluster:
    """Where a local cluster lives; ``root`` is the ``.storedb`` folder that names it."""

    root: Path
    home: Path  # data/, run/ and postgres.log; ``root`` itself unless unreachable

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    @property
    def dsn(self) -> str:
        return self.dsn_for(DBNAME)

    def dsn_for(self, dbname: str) -> str:
        return f"host={self.socket_dir} port={PORT} user={SUPERUSER} dbname={dbname}"

    def url(self, dbname: str = DBNAME) -> str:
        return f"postgresql://{SUPERUSER}@/{dbname}?host={self.socket_dir}&port={PORT}"


def find_bindir() -> Path:
    """PostgreSQL's server binaries: pg_ctl on PATH, pg_config --bindir, or the newest install."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 check=True).stdout.strip()
            candidates.append(Path(out))
    installed = glob.glob("/usr/lib/postgresql/*/bin")
    installed.sort(key=lambda p: [int(x) for x in re.findall(r"\d+", p)], reverse=True)
    candidates += [Path(p) for p in installed]
    for bindir in candidates:
        if all((bindir / exe).exists() for exe in ("pg_ctl", "initdb", "postgres")):
            return bindir
    tried = ", ".join(str(c) for c in candidates) or "nothing found"
    raise LocalClusterError(
        "no PostgreSQL server binaries (pg_ctl, initdb, postgres) found; tried: pg_ctl on PATH, "
        f"pg_config --bindir, /usr/lib/postgresql/*/bin ({tried}). Install them "
        "(Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) or point "
        "storedb at a server with --dsn / DATABASE_URL.")


def _as_server_user() -> list[str]:
    """The command prefix that runs server binaries as a user initdb accepts."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise LocalClusterError(
            "running as root, and initdb refuses root, but there is no 'postgres' user to run "
            "the local cluster as. Create one (useradd --system --create-home postgres) or run "
            "storedb as an ordinary user.") from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise LocalClusterError("running as root needs 'runuser' (util-linux) to start the "
                                "cluster as the postgres user; install util-linux.")
    return [runuser, "-u", "postgres", "--"]


def _reachable(path: Path, user: str) -> bool:
    """Whether ``user`` can traverse every folder above ``path``."""
    info = pwd.getpwnam(user)
    for parent in path.resolve().parents:
        st = parent.stat()
        if st.st_uid == info.pw_uid:
            ok = st.st_mode & 0o100
        elif st.st_gid == info.pw_gid:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            return False
    return True


def locate(root: Path | None = None) -> LocalCluster:
    """The cluster named by ``root`` (default ``./.storedb``), without starting it."""
    root = (root or Path.cwd() / ".storedb").absolute()
    home = root
    pointer = root / "location"
    if pointer.exists():
        home = Path(pointer.read_text().strip())
    elif len(str(root / "run" / f".s.PGSQL.{PORT}")) > _SOCKET_MAX or (
            os.geteuid() == 0 and not _reachable(root, "postgres")):
        tag = hashlib.sha256(str(root).encode()).hexdigest()[:12]
        home = Path("/tmp") / f"storedb-{tag}"
    return LocalCluster(root=root, home=home)


@contextlib.contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    """Serialise processes that start the same cluster at the same moment."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _run(cmd: list[str], what: str, log_file: Path | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = ""
        if log_file and log_file.exists():
            tail = "\n--- server log (last lines) ---\n" + "\n".join(
                log_file.read_text(errors="replace").splitlines()[-15:])
        raise LocalClusterError(f"could not {what}: {proc.stderr.strip() or proc.stdout.strip()}"
                                f"{tail}")
    return proc.stdout


def is_running(cluster: LocalCluster) -> bool:
    if not (cluster.data / "PG_VERSION").exists():
        return False
    pg_ctl = find_bindir() / "pg_ctl"
    proc = subprocess.run([*_as_server_user(), str(pg_ctl), "status", "-D", str(cluster.data)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return proc.returncode == 0


def ensure_running(root: Path | None = None, *, dbname: str = DBNAME,
                   on_create: Callable[[str], None] | None = None,
                   settings: dict[str, str] | None = None) -> LocalCluster:
    """Create (first time) and start the local cluster, and its database; return it.

    ``on_create`` gets the new database's DSN once, right after it is created:
    the caller marks it (the CLI records it as a development database), so this
    module knows nothing about migration history.  ``settings`` are server
    settings for a cluster started now (a throwaway test cluster turns fsync off).
    """
    cluster = locate(root)
    if _already_up(cluster, dbname):
        return cluster
    with _exclusive(cluster.root):
        if cluster.home != cluster.root:
            (cluster.root / "location").write_text(f"{cluster.home}\n")
        if not is_running(cluster):
            _init_and_start(cluster, settings or {})
        if _ensure_database(cluster, dbname) and on_create is not None:
            on_create(cluster.dsn_for(dbname))
        (cluster.home / f".database-{dbname}").touch()
    return cluster


def _already_up(cluster: LocalCluster, dbname: str) -> bool:
    """The quick path of every command: the postmaster lives and the database was made.

    It avoids running pg_ctl (and a lock) on each invocation; when anything
    looks off, the slow path checks properly.
    """
    try:
        pid = int((cluster.data / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return (cluster.socket_dir / f".s.PGSQL.{PORT}").exists() and (
        cluster.home / f".database-{dbname}").exists()


def _init_and_start(cluster: LocalCluster, settings: dict[str, str]) -> None:
    bindir = find_bindir()
    sudo = _as_server_user()
    for folder in (cluster.home, cluster.socket_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if sudo:
        info = pwd.getpwnam("postgres")
        for folder in (cluster.home, cluster.socket_dir):
            os.chown(folder, info.pw_uid, info.pw_gid)
        os.chmod(cluster.home, 0o755)
    if not (cluster.data / "PG_VERSION").exists():
        _run([*sudo, str(bindir / "initdb"), "-D", str(cluster.data), "-U", SUPERUSER,
              "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], "initialise the cluster")
    options = (f"-k {cluster.socket_dir} -p {PORT} -c listen_addresses='' "
               "-c fsync=on -c max_connections=200")
    options += "".join(f" -c {name}={value}" for name, value in settings.items())  # last wins
    _run([*sudo, str(bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(cluster.data),
          "-l", str(cluster.log_file), "-o", options], "start the local cluster", cluster.log_file)


def _ensure_database(cluster: LocalCluster, dbname: str) -> bool:
    """Create the database unless it exists; True when it was created now."""
    import psycopg

    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(host=str(cluster.socket_dir), port=PORT, user=SUPERUSER,
                                 dbname="postgres", autocommit=True) as conn:
                exists = conn.execute("select 1 from pg_database where datname = %s",
                                      (dbname,)).fetchone()
                if not exists:
                    conn.execute(f'create database "{dbname}"')
                return not exists
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise LocalClusterError(f"the local cluster at {cluster.home} does not accept "
                                        f"connections: {exc}") from None
            time.sleep(0.1)


def stop(root: Path | None = None) -> bool:
    """Stop the local cluster; False when it was not running."""
    cluster = locate(root)
    if not is_running(cluster):
        return False
    _run([*_as_server_user(), str(find_bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D",
          str(cluster.data)], "stop the local cluster")
    return True
