"""The embedded default: with no DSN, storedb starts and reuses its own local cluster."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from storedb import _local as local
from tests.helpers import run_cli


@pytest.mark.matrix  # the cluster `make run` starts: fetched builds can serve as well
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
    monkeypatch.delenv(local.BINDIR_VAR, raising=False)
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


def test_bindir_variable_wins_and_a_wrong_one_is_explained(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    for exe in ("pg_ctl", "initdb", "postgres"):
        (tmp_path / exe).touch()
    monkeypatch.setenv(local.BINDIR_VAR, str(tmp_path))
    assert local.find_bindir() == tmp_path
    (tmp_path / "initdb").unlink()
    with pytest.raises(local.LocalClusterError, match=f"{local.BINDIR_VAR}=.* has no initdb"):
        local.find_bindir()


def test_without_a_system_postgresql_a_fetched_build_is_used(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    """tools/pgversions.py unpacks PyPI builds into the cache; the newest one serves."""
    cache = tmp_path / "cache"
    for release in ("14.22.0", "18.6.0", "16.15.0"):
        bindir = cache / release / f"postgresql-{release}-x86_64-unknown-linux-gnu" / "bin"
        bindir.mkdir(parents=True)
        for exe in ("pg_ctl", "initdb", "postgres"):
            (bindir / exe).touch()
    monkeypatch.setenv("STOREDB_PG_CACHE", str(cache))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(local.BINDIR_VAR, raising=False)
    real_glob = local.glob.glob
    monkeypatch.setattr(local.glob, "glob", lambda pattern: [] if pattern.startswith(
        "/usr/lib/postgresql") else real_glob(pattern))
    assert local.find_bindir().parent.name == "postgresql-18.6.0-x86_64-unknown-linux-gnu"


def _tmp_home(tmp_path: Path) -> tuple[Path, Path]:
    """A .storedb root whose socket path is too long, so its home is /tmp/storedb-<hash>."""
    root = tmp_path / ("deep-" * 20) / ".storedb"
    home = local.locate(root).home
    assert str(home).startswith("/tmp/storedb-")
    return root, home


def test_a_planted_symlink_is_not_followed(tmp_path: Path) -> None:
    root, home = _tmp_home(tmp_path)
    target = tmp_path / "victim"
    target.mkdir(mode=0o700)
    before = os.stat(target)
    home.symlink_to(target)
    try:
        with pytest.raises(local.LocalClusterError) as info:
            local.ensure_running(root)
        assert "symbolic link" in str(info.value) and str(home) in str(info.value)
        after = os.stat(target)
        assert (after.st_uid, after.st_mode) == (before.st_uid, before.st_mode)  # not re-owned
        assert list(target.iterdir()) == []  # nothing created through the link
        result = run_cli("migrate", cwd=root.parent)
        assert result.code == 1 and "symbolic link" in result.err
        assert "Traceback" not in result.err
    finally:
        home.unlink()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="handing a directory to another user needs root")
def test_a_directory_of_another_user_or_open_to_all_is_refused(tmp_path: Path) -> None:
    root, home = _tmp_home(tmp_path)
    home.mkdir()
    try:
        os.chown(home, 65534, 65534)  # nobody's
        with pytest.raises(local.LocalClusterError) as info:
            local.ensure_running(root)
        assert "belongs to" in str(info.value)
        assert os.stat(home).st_uid == 65534  # not taken over
        import pwd

        postgres = pwd.getpwnam("postgres")
        os.chown(home, postgres.pw_uid, postgres.pw_gid)
        os.chmod(home, 0o777)
        with pytest.raises(local.LocalClusterError) as info:
            local.ensure_running(root)
        assert "writable by others (mode 777)" in str(info.value)
    finally:
        shutil.rmtree(home, ignore_errors=True)
