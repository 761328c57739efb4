"""storedb's pytest plugin: a migrated database per test, in milliseconds.

Installed with storedb and registered through the ``pytest11`` entry point, so
an application's tests only choose fixtures::

    def test_checkout(storedb_app_conn, store_factory):
        shop = store_factory(subdomain="acme")
        with storedb.tenant_scope(storedb_app_conn, shop.id) as conn:
            ...

``storedb_template`` (session) migrates the SQL once, as a non-superuser
owner; ``storedb_db`` clones it per test with ``CREATE DATABASE ... TEMPLATE``
and drops it afterwards.  The server is, in this order: the pytest-postgresql
process fixture named by ``--storedb-postgresql-proc`` / ``storedb_postgresql_proc``,
``--storedb-dsn`` / ``STOREDB_TEST_DSN``, or a throwaway cluster the plugin
starts itself (as the ``postgres`` OS user when run as root).  Under
pytest-xdist every worker has its own template (names carry the worker id
and the process id), so workers never share a database.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from ._server import APP_USER, OWNER, ROLE_PASSWORD, Server, Template

if TYPE_CHECKING:
    import psycopg

    from ..tenancy import Tenant

__all__ = ["APP_USER", "OWNER", "ROLE_PASSWORD", "Server", "StoreFactory", "Template"]

T = TypeVar("T")

StoreFactory = Callable[..., "Tenant"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("storedb", "storedb: a migrated PostgreSQL database per test")
    group.addoption("--storedb-dsn", default=None,
                    help="a server to create the test databases on (a DSN to any database of "
                         "it, as a role that may create databases; a superuser lets storedb "
                         "migrate as a non-superuser owner). Default: $STOREDB_TEST_DSN, else a "
                         "throwaway cluster started by the plugin.")
    group.addoption("--storedb-dir", default=None,
                    help="the SQL root to migrate (schema/, migrations/); default: the "
                         "storedb_dir ini option, else the SQL shipped with storedb.")
    group.addoption("--storedb-postgresql-proc", default=None,
                    help="the name of a pytest-postgresql process fixture to use as the server "
                         "(e.g. postgresql_proc).")
    parser.addini("storedb_dir", "the SQL root to migrate (relative to the ini file)",
                  type="paths", default=[])
    parser.addini("storedb_postgresql_proc", "a pytest-postgresql process fixture to use",
                  default="")


def _worker(config: pytest.Config) -> str | None:
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else None


def _directory(config: pytest.Config) -> Path:
    from ..runner._files import shipped_directory

    option = config.getoption("storedb_dir")
    if option:
        return Path(option).absolute()
    ini = config.getini("storedb_dir")
    return Path(ini[0]) if ini else shipped_directory()


@pytest.fixture(scope="session")
def storedb_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The PostgreSQL server the test databases live on (see the module docstring)."""
    from . import _server

    config = request.config
    proc = config.getoption("storedb_postgresql_proc") or config.getini("storedb_postgresql_proc")
    dsn = config.getoption("storedb_dsn") or os.environ.get("STOREDB_TEST_DSN")
    if proc:
        server = _server.from_executor(request.getfixturevalue(proc))
    elif dsn:
        server = _server.from_dsn(dsn)
    else:
        server = _server.start_cluster()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def storedb_template(request: pytest.FixtureRequest, storedb_server: Server
                     ) -> Iterator[Template]:
    """The SQL migrated once per session (per xdist worker) into a template database."""
    from ._server import template_on

    with template_on(storedb_server, _directory(request.config),
                     _worker(request.config)) as template:
        yield template


@pytest.fixture
def storedb_db(storedb_template: Template) -> Iterator[str]:
    """A fresh clone of the template for this test: its DSN as the schema's owner."""
    dsn = storedb_template.clone()
    try:
        yield dsn
    finally:
        storedb_template.drop(dsn)


def _dbname(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    return str(conninfo_to_dict(dsn)["dbname"])


@pytest.fixture
def storedb_app_dsn(storedb_template: Template, storedb_db: str) -> str:
    """The test database's DSN as a login role in storedb_app (row level security applies)."""
    return storedb_template.dsn(_dbname(storedb_db), app=True)


@pytest.fixture
def storedb_conn(storedb_db: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the test database as the owner (psycopg's defaults: not autocommit)."""
    import psycopg

    with psycopg.connect(storedb_db) as conn:
        yield conn


@pytest.fixture
def storedb_app_conn(storedb_app_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the test database as the application's role, so RLS applies."""
    import psycopg

    with psycopg.connect(storedb_app_dsn) as conn:
        yield conn


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even under a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: list[Any] = []

    def target() -> None:
        try:
            box.append((True, asyncio.run(coro)))
        except BaseException as exc:
            box.append((False, exc))

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    ok, value = box[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def _aconnect(dsn: str) -> Iterator[psycopg.AsyncConnection[Any]]:
    """An AsyncConnection made outside any loop: it works in whichever loop the test runs.

    A plain fixture (not an async one) needs no pytest-asyncio or anyio
    plugin, and serves ``asyncio.run`` in a synchronous test as well.
    """
    import psycopg

    conn = run_sync(psycopg.AsyncConnection.connect(dsn))
    try:
        yield conn
    finally:
        run_sync(conn.close())


@pytest.fixture
def storedb_aconn(storedb_db: str) -> Iterator[psycopg.AsyncConnection[Any]]:
    """An AsyncConnection to the test database as the owner."""
    yield from _aconnect(storedb_db)


@pytest.fixture
def storedb_app_aconn(storedb_app_dsn: str) -> Iterator[psycopg.AsyncConnection[Any]]:
    """An AsyncConnection to the test database as the application's role."""
    yield from _aconnect(storedb_app_dsn)


@pytest.fixture
def store_factory(storedb_app_dsn: str) -> Iterator[StoreFactory]:
    """``store_factory(subdomain=None, name=None, **options) -> Tenant``, through the DAO.

    Stores are created as the application's role and committed, so every
    connection of the test sees them; subdomains default to store-1, store-2, ...
    """
    import psycopg

    from ..tenancy import create_tenant

    numbers = itertools.count(1)
    conns: list[psycopg.Connection[Any]] = []

    def make(subdomain: str | None = None, name: str | None = None, **options: Any) -> Tenant:
        if not conns:
            conns.append(psycopg.connect(storedb_app_dsn, autocommit=True))
        n = next(numbers)
        subdomain = subdomain or f"store-{n}"
        return create_tenant(conns[0], subdomain=subdomain, name=name or f"Store {n}",
                             **options)

    try:
        yield make
    finally:
        for conn in conns:
            conn.close()
