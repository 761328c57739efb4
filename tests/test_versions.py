"""Supported servers: PostgreSQL 14-18 (``make test-matrix`` runs the suite on each)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

import storedb
from storedb import _connection, _local
from tests.helpers import run_cli

pytestmark = pytest.mark.matrix


@pytest.mark.parametrize("version, shown", [(130011, "13.11"), (120000, "12.0"),
                                            (90624, "9.6.24"), (80420, "8.4.20")])
def test_servers_below_14_are_refused_with_the_supported_range(version: int, shown: str) -> None:
    with pytest.raises(storedb.ConnectError) as err:
        _connection.require_supported(version)
    message = str(err.value)
    assert f"PostgreSQL {shown};" in message and "supports PostgreSQL 14 to 18" in message
    assert isinstance(err.value, storedb.Error)


@pytest.mark.parametrize("version", [140000, 140022, 150019, 160015, 170011, 180006])
def test_supported_servers_pass(version: int, caplog: pytest.LogCaptureFixture) -> None:
    _connection.require_supported(version)
    assert not caplog.records


def test_newer_server_is_let_through_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    _connection.require_supported(190002)
    assert "PostgreSQL 19.2; storedb is tested on 14 to 18" in caplog.text


def test_every_command_checks_the_version_when_connecting(
        empty_dsn: str, monkeypatch: pytest.MonkeyPatch, sqldir: Callable[..., Path]) -> None:
    """No server older than 14 exists here, so the gate is raised above this one instead."""
    root = sqldir({"migrations/001_x.sql": "create table x (id int);\n"})
    monkeypatch.setattr(_connection, "SUPPORTED_MAJORS", (99, 99))
    for call in (lambda: storedb.migrate(empty_dsn, directory=root),
                 lambda: storedb.status(empty_dsn, directory=root),
                 lambda: storedb.check_tenancy(empty_dsn)):
        with pytest.raises(storedb.ConnectError, match="storedb supports PostgreSQL 99 to 99"):
            call()
    with psycopg.connect(empty_dsn) as conn:  # a borrowed connection is checked too
        with pytest.raises(storedb.ConnectError, match="PostgreSQL 99 to 99"):
            storedb.migrate(conn, directory=root)
        assert conn.execute("select to_regclass('x')").fetchone() == (None,)


def test_the_server_is_the_version_asked_for(empty_dsn: str) -> None:
    """The matrix really runs each version: fixtures, psql and pg_dump come from one bindir."""
    bindir = _local.find_bindir()
    with psycopg.connect(empty_dsn) as conn:
        server = _connection.readable_version(conn.info.server_version)
    for exe in ("postgres", "psql", "pg_dump"):
        out = subprocess.run([str(bindir / exe), "--version"], capture_output=True,
                             text=True).stdout
        assert out.split()[-1].startswith(server.split(".")[0] + "."), (exe, out, server)
    if os.environ.get(_local.BINDIR_VAR):
        assert bindir == Path(os.environ[_local.BINDIR_VAR])


def test_syntax_newer_than_the_server_names_its_line_and_the_versions(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    """storedb's parse uses the newest grammar; an older server rejects the whole message."""
    from pglast import parser

    grammar = parser.get_postgresql_version()[0]
    with psycopg.connect(empty_dsn) as conn:
        major = conn.info.server_version // 10000
    if major >= grammar:
        pytest.skip(f"the server ({major}) knows every syntax of the PostgreSQL {grammar} parser")
    root = sqldir({"migrations/001_x.sql": (
        "-- virtual generated columns are PostgreSQL 18 syntax\n"
        "create table a (id int);\n"
        "insert into a values (1);\n"
        "create table v (\n"
        "  a int,\n"
        "  b int generated always as (a * 2) virtual\n"
        ");\n")})
    result = run_cli("migrate", "--dsn", empty_dsn, "--dir", str(root))
    assert result.code == 1, result.err
    assert 'migrations/001_x.sql:6:37: syntax error at or near "virtual"' in result.err
    assert "in statement 3 of 3 (line 4)" in result.err
    assert f"checked this file with the PostgreSQL {grammar} grammar" in result.err
    assert f"PostgreSQL {major} does not have yet" in result.err
    assert "Traceback" not in result.err
    with psycopg.connect(empty_dsn) as conn:
        assert conn.execute("select to_regclass('a')").fetchone() == (None,)


def test_syntax_error_in_a_function_body_is_not_blamed_on_the_version(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir({"migrations/001_x.sql": "create function f() returns int\n"
                   "language plpgsql as $$\nbegin\n    retrun 1;\nend\n$$;\n"})
    result = run_cli("migrate", "--dsn", empty_dsn, "--dir", str(root))
    assert result.code == 1 and "001_x.sql:4:5" in result.err, result.err
    assert "grammar" not in result.err
