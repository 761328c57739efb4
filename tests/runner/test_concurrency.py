"""Many runners, one database: serialised, every file applied exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.helpers import SQL_DIR, history

pytestmark = pytest.mark.matrix  # also on PostgreSQL 14-18: make test-matrix

N_PROCESSES = 8
SLEEPING = ("select count(*) from pg_stat_activity where query like '%pg_sleep(30)%' "
            "and state = 'active' and pid <> pg_backend_pid()")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "STOREDB_DIR") and not k.startswith("PG")}


@pytest.mark.slow  # several processes
def test_eight_cli_processes_at_once(empty_dsn: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "storedb", "migrate", "--dsn", empty_dsn,
                               "--dir", str(SQL_DIR)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=clean_env())
             for _ in range(N_PROCESSES)]
    outcomes = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read())  # type: ignore[union-attr]
                for p in procs]
    assert [code for code, _, _ in outcomes] == [0] * N_PROCESSES, outcomes
    files = sorted(str(p.relative_to(SQL_DIR)) for p in SQL_DIR.glob("*/*.sql")
                   if p.parent.name != "seed")
    assert [name for name, _ in history(empty_dsn)] == files
    applied_lines = sum(err.count("storedb: applied ") for _, _, err in outcomes)
    assert applied_lines == len(files)  # each file applied by exactly one runner


@pytest.mark.slow  # several processes
def test_library_runners_in_processes(empty_dsn: str, tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(
        "import sys, storedb\n"
        f"r = storedb.migrate(sys.argv[1], directory={str(SQL_DIR)!r})\n"
        "print(len(r.applied))\n")
    procs = [subprocess.Popen([sys.executable, str(script), empty_dsn], stdout=subprocess.PIPE,
                              text=True, env=clean_env()) for _ in range(N_PROCESSES)]
    applied = [int(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(applied) == len(history(empty_dsn))


@pytest.mark.slow  # several processes
def test_waiting_runner_names_the_holder_and_times_out(empty_dsn: str) -> None:
    from storedb.runner._lock import LOCK_KEY

    with psycopg.connect(empty_dsn, autocommit=True, application_name="long-deploy") as holder:
        holder.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        holder_pid = holder.info.backend_pid
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "storedb", "migrate", "--dsn", empty_dsn,
                               "--dir", str(SQL_DIR), "--lock-timeout", "1.5"],
                              capture_output=True, text=True, env=clean_env(), timeout=60)
        elapsed = time.monotonic() - started
    assert proc.returncode == 1
    assert "gave up after 1.5s waiting for the migration lock" in proc.stderr
    assert "long-deploy" in proc.stderr and f"pid {holder_pid}" in proc.stderr
    assert 1.5 <= elapsed < 10
    assert history(empty_dsn) == []


@pytest.mark.slow  # several processes
def test_killed_runner_leaves_no_lock_and_no_half_file(empty_dsn: str, tmp_path: Path) -> None:
    root = tmp_path / "sql"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "001_fast.sql").write_text("create table fast (id int);\n")
    (root / "migrations" / "002_slow.sql").write_text(
        "create table slow (id int);\nselect pg_sleep(30);\n")
    proc = subprocess.Popen([sys.executable, "-m", "storedb", "migrate", "--dsn", empty_dsn,
                             "--dir", str(root)], stderr=subprocess.PIPE, text=True,
                            env=clean_env())
    with psycopg.connect(empty_dsn, autocommit=True) as watch:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if watch.execute(SLEEPING).fetchone() == (1,):
                break
            time.sleep(0.05)
        proc.kill()  # kill -9 in the middle of the long file
        proc.wait()
        killed_at = time.monotonic()
        # the server notices the dead client by itself (client_connection_check_interval)
        # and ends the statement, its transaction and the session lock with it
        while watch.execute(SLEEPING).fetchone() != (0,):
            assert time.monotonic() - killed_at < 10, "the dead runner's statement lives on"
            time.sleep(0.05)
    assert [h[0] for h in history(empty_dsn)] == ["migrations/001_fast.sql"]
    (root / "migrations" / "002_slow.sql").write_text("create table slow (id int);\n")
    rerun = subprocess.run([sys.executable, "-m", "storedb", "migrate", "--dsn", empty_dsn,
                            "--dir", str(root), "--lock-timeout", "5"], capture_output=True,
                           text=True, env=clean_env(), timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert [h[0] for h in history(empty_dsn)] == ["migrations/001_fast.sql",
                                                  "migrations/002_slow.sql"]
