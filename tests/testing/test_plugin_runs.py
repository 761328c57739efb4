"""The plugin as an application meets it: pytest run in a process of its own.

examples/app is an application's test suite that uses only the documented
fixtures; it runs here under pytest-xdist with the plugin's own clusters,
against a server given by STOREDB_TEST_DSN with the application's own SQL
(the storedb_dir ini option), and through pytest-postgresql's noproc fixture.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storedb.testing import Server
from tests.helpers import ROOT

EXAMPLE = ROOT / "examples" / "app"

pytestmark = pytest.mark.slow


def run_pytest(*args: str, cwd: Path, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "STOREDB_"))
             and k not in ("DATABASE_URL", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    clean.update(env or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-q", *args], cwd=cwd, env=clean,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def test_the_example_app_suite_under_xdist_with_the_plugins_own_clusters(tmp_path: Path
                                                                           ) -> None:
    pytest.importorskip("xdist")
    temp = tmp_path / "t"
    temp.mkdir()
    proc = run_pytest("-n", "2", "-p", "no:randomly", cwd=EXAMPLE, env={"TMPDIR": str(temp)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout and "failed" not in proc.stdout
    assert list(temp.glob("storedb-pytest-*")) == []  # each worker stopped and removed its cluster


APP_SQL = """-- schema/00_app.sql: the application's own schema
create table widgets (id bigint generated always as identity primary key, name text not null);
"""

APP_TEST = '''
import storedb


def test_own_sql_migrated_as_a_non_superuser(storedb_conn, storedb_template):
    assert storedb_template.directory.name == "db"
    assert storedb_conn.execute("select count(*) from widgets").fetchone() == (0,)
    assert storedb_conn.execute("select rolsuper from pg_roles where rolname = current_user"
                                ).fetchone() == (False,)
    assert storedb.check(storedb_conn, directory=storedb_template.directory).ok


def test_clones_are_independent(storedb_conn):
    storedb_conn.execute("insert into widgets (name) values ('a')")
    storedb_conn.commit()
'''


def _application(tmp_path: Path, ini: str) -> Path:
    app = tmp_path / "app"
    (app / "db" / "schema").mkdir(parents=True)
    (app / "db" / "schema" / "00_app.sql").write_text(APP_SQL)
    (app / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n" + ini)
    (app / "test_app.py").write_text(APP_TEST)
    return app


def test_a_given_server_and_the_applications_own_sql(tmp_path: Path,
                                                     storedb_server: Server) -> None:
    app = _application(tmp_path, "storedb_dir = db\n")
    proc = run_pytest("-p", "no:randomly", cwd=app,
                      env={"STOREDB_TEST_DSN": storedb_server.conninfo})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_pytest_postgresqls_process_fixture_and_the_dir_option(tmp_path: Path,
                                                               storedb_server: Server) -> None:
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(storedb_server.conninfo)
    app = _application(tmp_path, "storedb_postgresql_proc = postgresql_noproc\n")
    proc = run_pytest("-p", "no:randomly", f"--storedb-dir={app / 'db'}",
                      f"--postgresql-host={info['host']}", f"--postgresql-port={info['port']}",
                      f"--postgresql-user={info['user']}", cwd=app)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_readme_shows_the_example_conftest_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    assert (EXAMPLE / "conftest.py").read_text() in readme


def test_readme_shows_the_async_example_app_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    assert (EXAMPLE / "app.py").read_text() in readme
