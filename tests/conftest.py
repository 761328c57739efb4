"""Fixtures: one throwaway PostgreSQL cluster per test session, a fresh database per test.

The cluster is started by storedb's own local-cluster code (as the
``postgres`` OS user when we run as root).  pytest-postgresql then builds
template databases once — an empty one and one with the shipped SQL migrated
by a non-superuser owner — and clones one per test with
``CREATE DATABASE ... TEMPLATE``, which is far cheaper than migrating again.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from pytest_postgresql import factories

import storedb
from storedb import _local as local
from tests.helpers import (
    APP_USER,
    OWNER,
    PASSWORD,
    PASSWORD_USER,
    SHIPPED_SCHEMA_MIN,
    SQL_DIR,
    dsn_of,
)

#: Fixtures that hold the shipped schema: a test using one needs PostgreSQL SHIPPED_SCHEMA_MIN+.
_SCHEMA_FIXTURES = {"migrated_db", "migrated_proc", "owner_dsn", "app_dsn"}


def server_major() -> int | None:
    """The major version of the server the tests will start ($STOREDB_PG_BINDIR or found)."""
    try:
        postgres = local.find_bindir() / "postgres"
    except storedb.Error:
        return None
    out = subprocess.run([str(postgres), "--version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a server too old for the shipped SQL, skip what needs it (and say why)."""
    major = server_major()
    if major is None or major >= SHIPPED_SCHEMA_MIN:
        return
    skip = pytest.mark.skip(reason=f"the shipped SQL needs PostgreSQL {SHIPPED_SCHEMA_MIN}+ "
                            f"(002 uses ON DELETE SET NULL (column)); this server is {major}")
    for item in items:
        if item.get_closest_marker("shipped_schema") or _SCHEMA_FIXTURES & set(
                getattr(item, "fixturenames", ())):
            item.add_marker(skip)


@dataclass(frozen=True)
class Server:
    """What pytest-postgresql's noproc factory needs to know about our cluster."""

    host: str
    port: int
    user: str = local.SUPERUSER
    password: str = ""
    options: str = ""
    maintenance_dbname: str = "postgres"
    template_dbname: str | None = None

    def dsn(self, dbname: str, user: str | None = None) -> str:
        return f"host={self.host} port={self.port} user={user or self.user} dbname={dbname}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    tmp = Path(tempfile.mkdtemp(prefix="storedb-tests-"))
    tmp.chmod(0o755)
    cluster = local.ensure_running(tmp / ".storedb", dbname="postgres")
    server = Server(host=str(cluster.socket_dir), port=local.PORT)
    hba = cluster.data / "pg_hba.conf"  # one role must give a password, to test a wrong one
    hba.write_text(f"local all {PASSWORD_USER} scram-sha-256\n" + hba.read_text())
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
        conn.execute("select pg_reload_conf()")
        for statement in (
            f"create role {PASSWORD_USER} login password '{PASSWORD}'",
            f"create role {OWNER} login createrole",
            "create role storedb_definer nologin bypassrls",
            f"grant storedb_definer to {OWNER} with admin option",
        ):
            with contextlib.suppress(psycopg.errors.DuplicateObject):
                conn.execute(statement)
    yield server
    local.stop(tmp / ".storedb")
    shutil.rmtree(tmp, ignore_errors=True)
    if cluster.home != cluster.root:
        shutil.rmtree(cluster.home, ignore_errors=True)


def load_shipped_schema(host: str, port: int, user: str, dbname: str, **_: object) -> None:
    """Template loader: the shipped SQL, migrated by the non-superuser owner."""
    import storedb

    with psycopg.connect(host=host, port=port, user=user, dbname=dbname, autocommit=True) as c:
        c.execute(f"alter database {dbname} owner to {OWNER}")
        c.execute(f"alter schema public owner to {OWNER}")
    storedb.migrate(f"host={host} port={port} user={OWNER} dbname={dbname}", directory=SQL_DIR)
    with (psycopg.connect(host=host, port=port, user=user, dbname=dbname, autocommit=True) as c,
          contextlib.suppress(psycopg.errors.DuplicateObject)):
        c.execute(f"create role {APP_USER} login in role storedb_app")


empty_proc = factories.postgresql_noproc(depends_on="pg_server", dbname="tmpl_empty")
migrated_proc = factories.postgresql_noproc(depends_on="pg_server", dbname="tmpl_migrated",
                                            load=[load_shipped_schema])
empty_db = factories.postgresql("empty_proc", dbname="t_empty")
migrated_db = factories.postgresql("migrated_proc", dbname="t_migrated")


@pytest.fixture
def empty_dsn(empty_db: psycopg.Connection[object]) -> str:
    """A DSN of a fresh, empty database."""
    empty_db.commit()
    return dsn_of(empty_db)


@pytest.fixture
def owner_dsn(migrated_db: psycopg.Connection[object]) -> str:
    """A DSN of a fresh database with the shipped schema, as the owning role."""
    migrated_db.commit()
    return dsn_of(migrated_db, OWNER)


@pytest.fixture
def app_dsn(migrated_db: psycopg.Connection[object]) -> str:
    """A DSN of a fresh migrated database as a login role in storedb_app (not the owner)."""
    migrated_db.commit()
    return dsn_of(migrated_db, APP_USER)


@pytest.fixture
def sqldir(tmp_path: Path) -> Callable[..., Path]:
    """Write a SQL root from {relative path: text or bytes}; returns the root."""
    root = tmp_path / "sql"

    def write(files: dict[str, str | bytes], *, clear: bool = False) -> Path:
        if clear and root.exists():
            shutil.rmtree(root)
        for name, body in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(body, bytes):
                path.write_bytes(body)
            else:
                path.write_text(body)
        (root / "schema").mkdir(parents=True, exist_ok=True)
        return root

    return write
