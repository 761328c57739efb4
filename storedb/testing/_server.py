"""The test server and its databases: where it comes from, the roles, templates and clones.

The pytest fixtures in ``storedb.testing`` are thin; everything they need is
here as plain functions, so the project's own conftest and the benchmarks use
the same code.  A migrated template is built once; each test gets a clone
made with ``CREATE DATABASE ... TEMPLATE`` (a file copy inside the server,
far cheaper than migrating again) and dropped afterwards.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The non-superuser that owns and migrates the schema, as in production.
OWNER = "storedb_owner"
#: A login role in storedb_app: what an application connects as (row level security applies).
APP_USER = "app_user"
#: Given to the two roles above, so they also log in where pg_hba.conf asks for a password.
ROLE_PASSWORD = "storedb-test"

_counter = itertools.count(1)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Server:
    """A PostgreSQL server the tests may create databases and roles on."""

    conninfo: str  # to its maintenance database, as a role allowed to create databases
    user: str  # the role conninfo logs in as
    superuser: bool = False
    data_dir: Path | None = None  # set when the plugin started the cluster itself
    passwords: bool = True  # give the test roles' passwords in their DSNs
    _stop: list[Any] = field(default_factory=list, repr=False)

    def dsn(self, dbname: str, user: str | None = None, password: str | None = None) -> str:
        """This server's conninfo for ``dbname``, as ``user`` (default: the admin role)."""
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(self.conninfo)
        params["dbname"] = dbname
        if user is not None and user != self.user:
            params["user"] = user
            params.pop("password", None)
            if password is not None and self.passwords:
                params["password"] = password
        return make_conninfo(**{k: str(v) for k, v in params.items()})

    def admin(self) -> Any:
        """An autocommit connection to the maintenance database, as the admin role."""
        import psycopg

        return psycopg.connect(self.conninfo, autocommit=True)

    def create_database(self, name: str, *, template: str | None = None,
                        owner: str | None = None) -> str:
        """Create ``name`` (a clone of ``template`` if given); return its DSN as ``owner``."""
        sql = f"create database {_ident(name)}"
        if template:
            sql += f" template {_ident(template)}"
        if owner:
            sql += f" owner {_ident(owner)}"
        with self.admin() as conn:
            conn.execute(sql)
        return self.dsn(name, owner, ROLE_PASSWORD if owner in (OWNER, APP_USER) else None)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` even if a test left connections open (PostgreSQL 13+)."""
        with self.admin() as conn:
            conn.execute(f"drop database if exists {_ident(name)} with (force)")

    def stop(self) -> None:
        for stop in reversed(self._stop):
            stop()
        self._stop.clear()


def from_dsn(dsn: str) -> Server:
    """A server the user gave (``--storedb-dsn`` / ``STOREDB_TEST_DSN``)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("select current_user::text, rolsuper from pg_roles "
                           "where rolname = current_user").fetchone()
    assert row is not None
    return Server(conninfo=dsn, user=row[0], superuser=bool(row[1]))


def from_executor(executor: Any) -> Server:
    """A server from pytest-postgresql's process (or noprocess) fixture."""
    from psycopg.conninfo import make_conninfo

    params = {"host": executor.host, "port": executor.port, "user": executor.user,
              "dbname": getattr(executor, "maintenance_dbname", "postgres")}
    if getattr(executor, "password", None):
        params["password"] = executor.password
    options = getattr(executor, "options", "")
    if options:
        params["options"] = options
    return from_dsn(make_conninfo(**{k: str(v) for k, v in params.items()}))


def start_cluster() -> Server:
    """A throwaway cluster of the plugin's own (as the postgres OS user when run as root)."""
    from .. import _local as local

    tmp = Path(tempfile.mkdtemp(prefix="storedb-pytest-", dir=_memory_dir()))
    tmp.chmod(0o755)  # the postgres user must reach it when we are root
    root = tmp / ".storedb"
    # A throwaway cluster needs no crash safety: without fsync, a clone copies its files
    # (strategy file_copy) and the checkpoints around it write nothing to disk.
    cluster = local.ensure_running(root, dbname="postgres", settings={
        "fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"})
    server = Server(conninfo=cluster.dsn_for("postgres"), user=local.SUPERUSER, superuser=True,
                    data_dir=cluster.data, passwords=False)

    def stop() -> None:
        local.stop(root)
        shutil.rmtree(tmp, ignore_errors=True)
        if cluster.home != cluster.root:
            shutil.rmtree(cluster.home, ignore_errors=True)

    server._stop.append(stop)
    return server


def _memory_dir() -> str | None:
    """$TMPDIR if set, else /dev/shm when it is a roomy tmpfs, else the default temp dir.

    A clone copies a few hundred files: about 15 ms in memory against
    150-300 ms on a virtual machine's disk (bench/bench_testing.py).
    """
    shm = "/dev/shm"
    if os.environ.get("TMPDIR"):
        return None
    with contextlib.suppress(OSError):
        st = os.statvfs(shm)
        if os.access(shm, os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize >= 1 << 30:
            return shm
    return None


def _idempotent(conn: Any, sql: str) -> None:
    """Run role DDL that another worker may be running at the same moment."""
    import psycopg

    for attempt in range(5):
        try:
            conn.execute(sql)
            return
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            return
        except psycopg.errors.InternalError:  # "tuple concurrently updated"
            if attempt == 4:
                raise


def owner_of(server: Server) -> str:
    """The role that migrates: storedb_owner on a superuser connection, else the given user.

    A superuser (or BYPASSRLS role) never sees row level security, so the
    schema is owned and migrated by an ordinary role, as in production; the
    BYPASSRLS role that owns the SECURITY DEFINER functions needs a superuser
    to create, so it is made here first.
    """
    if not server.superuser:
        return server.user
    with server.admin() as conn:
        _idempotent(conn, f"create role {OWNER} login createrole password '{ROLE_PASSWORD}'")
        _idempotent(conn, "create role storedb_definer nologin bypassrls")
        _idempotent(conn, f"grant storedb_definer to {OWNER} with admin option")
    return OWNER


def add_app_user(server: Server, dbname: str) -> None:
    """A login role in storedb_app (made by the migrations), to connect as the application."""
    sql = f"create role {APP_USER} login password '{ROLE_PASSWORD}'"
    with contextlib.closing(_connect(server.dsn(dbname))) as conn:
        has_group = conn.execute("select to_regrole('storedb_app') is not null").fetchone()
        _idempotent(conn, sql)
        if has_group and has_group[0]:
            _idempotent(conn, f"grant storedb_app to {APP_USER}")


def _connect(dsn: str) -> Any:
    import psycopg

    return psycopg.connect(dsn, autocommit=True)


@dataclass(frozen=True)
class Template:
    """A migrated database that tests clone; never connect to it (cloning would then fail)."""

    server: Server
    dbname: str
    owner: str
    directory: Path

    def clone(self, name: str | None = None) -> str:
        """A new database copied from the template; its DSN as the owner."""
        name = name or f"{self.dbname.replace('_tmpl', '')}_{next(_counter)}"
        return self.server.create_database(name, template=self.dbname, owner=self.owner)

    def drop(self, dsn_or_name: str) -> None:
        from psycopg.conninfo import conninfo_to_dict

        name = dsn_or_name
        if "=" in dsn_or_name or "://" in dsn_or_name:
            name = str(conninfo_to_dict(dsn_or_name)["dbname"])
        self.server.drop_database(name)

    def dsn(self, dbname: str, *, app: bool = False) -> str:
        """The DSN of a clone as the owner, or as the application's login role."""
        return self.server.dsn(dbname, APP_USER if app else self.owner, ROLE_PASSWORD)


def build_template(server: Server, directory: Path, tag: str) -> Template:
    """Migrate ``directory`` into a new template database as the (non-superuser) owner."""
    from ..runner import migrate

    owner = owner_of(server)
    name = f"storedb_{tag}_tmpl"
    dsn = server.create_database(name, owner=owner)
    if server.superuser:  # older clusters: public may still belong to the bootstrap superuser
        with contextlib.closing(_connect(server.dsn(name))) as conn:
            conn.execute(f"alter schema public owner to {_ident(owner)}")
    migrate(dsn, directory=directory)
    add_app_user(server, name)
    with server.admin() as conn:  # nobody may connect by mistake: cloning needs it idle
        conn.execute(f"alter database {_ident(name)} with is_template true")
    return Template(server=server, dbname=name, owner=owner, directory=directory)


def worker_tag(worker: str | None) -> str:
    """A database-name prefix unique to this process (xdist worker and pid)."""
    return f"{worker or 'main'}_{os.getpid():x}"


@contextlib.contextmanager
def template_on(server: Server, directory: Path, worker: str | None) -> Iterator[Template]:
    template = build_template(server, directory, worker_tag(worker))
    try:
        yield template
    finally:
        with server.admin() as conn:
            conn.execute(f"alter database {_ident(template.dbname)} is_template false")
        server.drop_database(template.dbname)
