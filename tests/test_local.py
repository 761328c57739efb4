"""The embedded default: with no DSN, storedb starts and reuses its own local cluster."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storedb import _local as local
from tests.helpers import run_cli


def test_local_cluster_is_created_reused_and_stopped(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    try:
        first = run_cli("migrate", cwd=project)
        assert first.code == 0, first.err
        assert "using the local PostgreSQL under" in first.err
        assert "dbname=storedb" in first.err
        assert "applied schema/00_base.sql" in first.err
        assert (project / ".storedb").is_dir()
        assert "starting the local PostgreSQL" in first.err and "storedb local stop" in first.err
        url = run_cli("local", "url", cwd=project)
        assert url.code == 0 and url.out.startswith("postgresql://postgres@/storedb?host=")
        app = run_cli("local", "url", "--app", cwd=project)  # the role the app serves as
        assert app.code == 0 and app.out.startswith("postgresql://app@/storedb?host="), app.err
        audit = run_cli("check", "--tenancy", "--dsn", app.out.strip(), cwd=project)
        assert audit.code == 0, audit.out + audit.err
        assert "role app is isolated" in audit.out
        assert run_cli("local", "status", cwd=project).out.startswith("running")
        assert run_cli("local", "stop", cwd=project).out.strip() == "stopped"
        assert run_cli("local", "status", cwd=project).out.startswith("stopped")
        again = run_cli("migrate", cwd=project)  # restarts the same cluster: data kept
        assert again.code == 0 and "up to date" in again.out
        check = run_cli("check", cwd=project)
        assert check.code == 0
    finally:
        cluster = local.locate(project / ".storedb")
        local.stop(project / ".storedb")
        if cluster.home != cluster.root:
            shutil.rmtree(cluster.home, ignore_errors=True)


def test_missing_binaries_say_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(local.glob, "glob", lambda _pattern: [])
    with pytest.raises(local.LocalClusterError) as err:
        local.find_bindir()
    assert "apt-get install postgresql" in str(err.value)
    assert "--dsn" in str(err.value)


def test_the_library_never_starts_a_server(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    """An unset DATABASE_URL in production must not mean a throwaway empty database."""
    import storedb
    from storedb._connection import LIBPQ_TARGET_VARS

    for var in ("DATABASE_URL", *LIBPQ_TARGET_VARS):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    for call in (storedb.migrate, storedb.status, storedb.check):
        with pytest.raises(storedb.ConnectError) as err:
            call()
        assert "DATABASE_URL" in str(err.value) and "never starts a server" in str(err.value)
    assert not (tmp_path / ".storedb").exists()
