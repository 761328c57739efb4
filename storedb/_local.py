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
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import LocalClusterError

PORT = 5432
DBNAME = "storedb"
SUPERUSER = "postgres"
APP_USER = "app"  # the application's login role (member of storedb_app; RLS applies to it)
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

    def dsn_for(self, dbname: str, user: str = SUPERUSER) -> str:
        return f"host={self.socket_dir} port={PORT} user={user} dbname={dbname}"

    def url(self, dbname: str = DBNAME, user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@/{dbname}?host={self.socket_dir}&port={PORT}"


#: Names a bindir to use instead of searching (the test matrix sets it per version).
BINDIR_VAR = "STOREDB_PG_BINDIR"
_SERVER_EXES = ("pg_ctl", "initdb", "postgres")


def wheel_cache() -> Path:
    """Where ``tools/pgversions.py`` keeps PostgreSQL builds fetched from PyPI.

    Outside any repository.  As root the builds go to /var/cache: the cluster
    runs as the ``postgres`` user, who cannot enter root's private home.
    """
    if os.environ.get("STOREDB_PG_CACHE"):
        return Path(os.environ["STOREDB_PG_CACHE"])
    if os.geteuid() == 0:
        return Path("/var/cache/storedb/pg")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "storedb" / "pg"


def _version_key(path: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", path)]


def find_bindir() -> Path:
    """PostgreSQL's server binaries.

    $STOREDB_PG_BINDIR when set, else pg_ctl on PATH, pg_config --bindir, the
    newest /usr/lib/postgresql/*/bin, and last the newest build fetched by
    ``tools/pgversions.py`` (for machines without a system PostgreSQL).
    """
    chosen = os.environ.get(BINDIR_VAR)
    if chosen:
        bindir = Path(chosen)
        missing = [exe for exe in _SERVER_EXES if not (bindir / exe).exists()]
        if missing:
            raise LocalClusterError(f"{BINDIR_VAR}={chosen} has no {', '.join(missing)}; point "
                                    "it at a PostgreSQL bin directory or unset it.")
        return bindir
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
    installed = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    fetched = sorted(glob.glob(str(wheel_cache() / "*" / "postgresql-*" / "bin")),
                     key=lambda p: _version_key(Path(p).parent.name), reverse=True)
    candidates += [Path(p) for p in installed + fetched]
    for bindir in candidates:
        if all((bindir / exe).exists() for exe in _SERVER_EXES):
            return bindir
    tried = ", ".join(str(c) for c in candidates) or "nothing found"
    raise LocalClusterError(
        "no PostgreSQL server binaries (pg_ctl, initdb, postgres) found; tried: "
        f"${BINDIR_VAR}, pg_ctl on PATH, pg_config --bindir, /usr/lib/postgresql/*/bin, "
        f"{wheel_cache()} ({tried}). Install them (Debian/Ubuntu: apt-get install postgresql; "
        "macOS: brew install postgresql; from a checkout: python -m tools.pgversions fetch 17) "
        "or point storedb at a server with --dsn / DATABASE_URL.")


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
    fd = os.open(root / ".lock", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:  # never through a planted symlink
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


def _safe_dir(path: Path, uid: int, gid: int) -> None:
    """Make ``path`` a directory owned by ``uid`` without trusting what is already there.

    The cluster's home may be a predictable ``/tmp/storedb-<hash>``: another
    user could have planted a symlink (which a plain mkdir -p, chown and chmod
    would follow, handing its target to postgres) or a directory of their own.
    A new directory is created exclusively; an existing one must be a real
    directory (never followed), owned by ``uid`` or by us (only then is it
    handed over, through a descriptor opened with O_NOFOLLOW), and writable by
    its owner only.
    """
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            raise LocalClusterError(
                f"{path} is a symbolic link (to {os.readlink(path)}): the local cluster's "
                "directory must not be a link, storedb will not follow it. Someone may have "
                f"planted it: check, remove it (rm {path}) and run again.") from None
        if not stat.S_ISDIR(st.st_mode):
            raise LocalClusterError(f"{path} exists and is not a directory: remove it and "
                                    "run again.") from None
        if st.st_uid not in (uid, os.geteuid()):
            owner = _user_name(st.st_uid)
            raise LocalClusterError(
                f"{path} belongs to {owner}, not to {_user_name(uid)}: the local cluster will "
                "not use (nor take over) a directory another user made. Check who created "
                f"it, remove it and run again.") from None
        if st.st_mode & 0o022 and st.st_uid != os.geteuid():  # ours: fixed below
            raise LocalClusterError(
                f"{path} is writable by others (mode {stat.S_IMODE(st.st_mode):o}): another "
                f"user could replace what is in it. Remove it (or chmod go-w {path}) and run "
                "again.") from None
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        if os.fstat(fd).st_uid != uid:
            os.fchown(fd, uid, gid)
        os.fchmod(fd, 0o755)
    finally:
        os.close(fd)


def _user_name(uid: int) -> str:
    try:
        return f"user {pwd.getpwuid(uid).pw_name}"
    except KeyError:
        return f"uid {uid}"


def _init_and_start(cluster: LocalCluster, settings: dict[str, str]) -> None:
    bindir = find_bindir()
    sudo = _as_server_user()
    info = pwd.getpwnam("postgres") if sudo else pwd.getpwuid(os.geteuid())
    cluster.home.parent.mkdir(parents=True, exist_ok=True)
    for folder in (cluster.home, cluster.socket_dir):
        _safe_dir(folder, info.pw_uid, info.pw_gid)
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
                if conn.info.server_version < 150000:  # each time: also fixes older clusters
                    _revoke_public_create(cluster, dbname)
                return not exists
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise LocalClusterError(f"the local cluster at {cluster.home} does not accept "
                                        f"connections: {exc}") from None
            time.sleep(0.1)


def _revoke_public_create(cluster: LocalCluster, dbname: str) -> None:
    """Give a database on PostgreSQL 14 the schema-public privileges 15 starts with.

    Before 15 every role may create objects in schema public, so the application role could
    plant functions or tables there; check --tenancy reports it.  The local cluster is ours to
    set up, so it starts the way 15 does rather than failing its own audit.
    """
    import psycopg

    with psycopg.connect(host=str(cluster.socket_dir), port=PORT, user=SUPERUSER,
                         dbname=dbname, autocommit=True) as conn:
        conn.execute("revoke create on schema public from public")


def stop(root: Path | None = None) -> bool:
    """Stop the local cluster; False when it was not running."""
    cluster = locate(root)
    if not is_running(cluster):
        return False
    _run([*_as_server_user(), str(find_bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D",
          str(cluster.data)], "stop the local cluster")
    return True
