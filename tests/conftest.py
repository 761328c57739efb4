"""Fixtures: storedb's own pytest plugin (storedb.testing) with a few project extras.

The plugin starts one throwaway cluster per session (as the ``postgres`` OS
user when we run as root), migrates the shipped SQL once into a template as
the non-superuser owner, and clones it per test with ``CREATE DATABASE ...
TEMPLATE``.  The fixtures below give the project's tests the same databases
under the names they use: ``owner_dsn`` / ``app_dsn`` / ``migrated_db``
(superuser) for one fresh migrated database, ``empty_dsn`` for an empty one.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from storedb import _local as local
from storedb.testing import Server as PluginServer
from tests.helpers import (
    PASSWORD,
    PASSWORD_USER,
    SERVER_MAJOR,
    SHIPPED_SCHEMA_MIN,
    SHIPPED_SQL_DIR,
    SQL_DIR,
)

_empty = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    """Migrate tests.helpers.SQL_DIR: infra/db, or on PostgreSQL 14 its copy spelt for 14.

    On 14 the copy is also what the library's default SQL root means in this process
    (``STOREDB_DIR``), so ``storedb.seed(dsn)`` seeds the database the tests migrated.
    """
    if SQL_DIR != SHIPPED_SQL_DIR and not config.getoption("storedb_dir"):
        config.option.storedb_dir = str(SQL_DIR)
        os.environ["STOREDB_DIR"] = str(SQL_DIR)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a server too old for the shipped SQL, skip what needs the files themselves."""
    major = SERVER_MAJOR
    if major is None or major >= SHIPPED_SCHEMA_MIN:
        return
    skip = pytest.mark.skip(reason=f"needs the shipped SQL itself, which needs PostgreSQL "
                            f"{SHIPPED_SCHEMA_MIN}+ (002 uses ON DELETE SET NULL (column)); "
                            f"this server is {major} and the tests use a copy spelt for 14")
    for item in items:
        if item.get_closest_marker("shipped_schema"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def storedb_server(storedb_server: PluginServer) -> PluginServer:
    """The plugin's server, plus the one role that must log in with a password."""
    with storedb_server.admin() as conn:
        with contextlib.suppress(psycopg.errors.DuplicateObject):
            conn.execute(f"create role {PASSWORD_USER} login password '{PASSWORD}'")
        if storedb_server.data_dir is not None:
            hba = storedb_server.data_dir / "pg_hba.conf"
            hba.write_text(f"local all {PASSWORD_USER} scram-sha-256\n" + hba.read_text())
            conn.execute("select pg_reload_conf()")
        if conn.info.server_version < 150000:
            # What PostgreSQL 15 made the default, and what infra/db/README.md asks an operator
            # on 14 to do: without it the app role may create objects in schema public, and
            # check --tenancy rightly fails (tests/tenancy/test_check.py plants that grant).
            with psycopg.connect(storedb_server.dsn("template1"), autocommit=True) as t1:
                t1.execute("revoke create on schema public from public")
    return storedb_server


@dataclass(frozen=True)
class Server:
    """Where the session's server listens (its socket directory and port), as a superuser."""

    host: str
    port: int
    user: str = local.SUPERUSER

    def dsn(self, dbname: str, user: str | None = None) -> str:
        return f"host={self.host} port={self.port} user={user or self.user} dbname={dbname}"


@pytest.fixture(scope="session")
def pg_server(storedb_server: PluginServer) -> Server:
    info = psycopg.conninfo.conninfo_to_dict(storedb_server.conninfo)
    return Server(host=str(info["host"]), port=int(str(info.get("port", local.PORT))))


@pytest.fixture
def empty_dsn(storedb_server: PluginServer) -> Iterator[str]:
    """A DSN of a fresh, empty database (as the superuser)."""
    name = f"t_empty_{next(_empty)}"
    yield storedb_server.create_database(name)
    storedb_server.drop_database(name)


@pytest.fixture
def owner_dsn(storedb_db: str) -> str:
    """A DSN of a fresh database with the shipped schema, as the owning role."""
    return storedb_db


@pytest.fixture
def app_dsn(storedb_app_dsn: str) -> str:
    """A DSN of the same fresh database as a login role in storedb_app (not the owner)."""
    return storedb_app_dsn


@pytest.fixture
def migrated_db(storedb_server: PluginServer, storedb_db: str
                ) -> Iterator[psycopg.Connection[object]]:
    """A superuser connection to the same fresh migrated database."""
    dbname = psycopg.conninfo.conninfo_to_dict(storedb_db)["dbname"]
    with psycopg.connect(storedb_server.dsn(str(dbname))) as conn:
        yield conn


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
