"""A catalogue of bad inputs: each gets a clear error, the right exit code, and changes nothing.

Every case runs the command line in-process (click's CliRunner: the same parsing, output and
exit codes as ``python -m storedb``, without a new interpreter per case) against a fresh
database and compares the database before and after.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.helpers import PASSWORD, PASSWORD_USER, history, invoke, tables

APPLIED = {"schema/00_base.sql": "create table items (id int primary key);\n"}


def snapshot(dsn: str) -> tuple[str, list[tuple[str, str]], int]:
    """Everything a failed run could have left behind: schema, history, rows."""
    from storedb._local import find_bindir

    dump = subprocess.run([str(find_bindir() / "pg_dump"), "--schema-only", "--no-owner", dsn],
                          capture_output=True, text=True, check=True).stdout
    schema = "\n".join(line for line in dump.splitlines()
                       if not line.startswith(("\\restrict", "\\unrestrict")))
    with psycopg.connect(dsn) as conn:
        names = [r[0] for r in conn.execute(
            "select format('%I.%I', schemaname, relname) from pg_stat_user_tables").fetchall()]
        rows = sum(conn.execute(f"select count(*) from {n}").fetchone()[0] for n in names)
    return schema, history(dsn), rows


# (name, files written on top of APPLIED after it is migrated, exit code, key parts of stderr)
CASES: list[tuple[str, dict[str, str | bytes], int, list[str]]] = [
    ("bad name", {"migrations/1_short.sql": "select 1;"}, 1,
     ["migrations/1_short.sql", "does not match NNN_name.sql"]),
    ("duplicate number", {"migrations/002_a.sql": "select 1;", "migrations/002_b.sql": "select 1;"},
     1, ["migrations/002_a.sql", "migrations/002_b.sql", "number 2 is used by"]),
    ("non-utf8", {"migrations/001_x.sql": b"select 1;\nselect '\xe9t\xe9';\n"}, 1,
     ["migrations/001_x.sql:2:9", "not valid UTF-8"]),
    ("untouched template", {"migrations/001_x.sql": "-- Purpose:   <what this migration does "
                                                    "and why>\n\n"}, 1,
     ["migrations/001_x.sql", "still the template", "holds no SQL statement"]),
    ("psql \\i", {"migrations/001_x.sql": "select 1;\n\\i other.sql\n"}, 1,
     ["migrations/001_x.sql:2:1", "\\i is a psql meta-command", "plain SQL"]),
    ("psql \\connect", {"migrations/001_x.sql": "\\connect other\nselect 1;\n"}, 1,
     ["migrations/001_x.sql:1:1", "\\connect is a psql meta-command"]),
    ("unterminated dollar quote", {"migrations/001_x.sql": "select 1;\nselect $a$ x;\n"}, 1,
     ["migrations/001_x.sql:2:8", "unterminated dollar-quoted string"]),
    ("unterminated string", {"migrations/001_x.sql": "select 'abc;\n"}, 1,
     ["migrations/001_x.sql:1:8", "unterminated quoted string"]),
    ("unterminated comment", {"migrations/001_x.sql": "select 1;\n/* open\nselect 2;\n"}, 1,
     ["migrations/001_x.sql:2:1", "unterminated /* comment"]),
    ("syntax error", {"migrations/001_x.sql": "create table a (id int);\ncreate tabel b ();\n"}, 1,
     ["migrations/001_x.sql:2:8", "syntax error"]),
    ("unknown directive", {"migrations/001_x.sql": "-- storedb:notransaction\nselect 1;\n"}, 1,
     ["migrations/001_x.sql:1", "unknown directive"]),
    ("transaction control", {"migrations/001_x.sql": "begin;\ncreate table a (id int);\n"}, 1,
     ["migrations/001_x.sql:1:1", "transaction control"]),
    ("concurrently in a transactional file",
     {"migrations/001_x.sql": "create table a (id int);\ncreate index concurrently a_i on a (id);"},
     1, ["migrations/001_x.sql:2:1", "statement 2 of 2", "-- storedb:no-transaction"]),
    ("missing relation on line 3",
     {"migrations/001_x.sql": "create table a (id int);\n\ninsert into nope values (1);\n"}, 1,
     ["migrations/001_x.sql:3:13", 'relation "nope" does not exist', "42P01",
      "statement 2 of 2", "Nothing of migrations/001_x.sql was kept"]),
    ("constraint violation",
     {"migrations/001_x.sql": "insert into items values (1);\ninsert into items values (1);\n"},
     1, ["migrations/001_x.sql:2:1", "duplicate key value", "23505", "DETAIL: Key (id)=(1)"]),
    ("error inside a function body",
     {"migrations/001_x.sql": "create table a (id int);\ncreate function f() returns int\n"
      "language plpgsql as $$\nbegin\n    retrun 1;\nend\n$$;\n"}, 1,
     ["migrations/001_x.sql:5:5", 'syntax error at or near "retrun"']),
    ("runtime error inside a function",
     {"migrations/001_x.sql": "create function g() returns int language plpgsql as $$\nbegin\n"
      "    return 1 / 0;\nend $$;\nselect g();\n"}, 1,
     ["migrations/001_x.sql:5:1", "division by zero", "PL/pgSQL function g() line 3 at RETURN",
      "statement 2 of 2"]),
    ("edited applied file", {"schema/00_base.sql": APPLIED["schema/00_base.sql"] + "-- x\n",
                             "migrations/001_new.sql": "create table n (id int);"}, 1,
     ["schema/00_base.sql: changed since it was applied", "storedb diff", "storedb accept"]),
    ("syntax error at the end of the file",
     {"migrations/001_x.sql": "create table a (id int);\ncreate table b (\n\n"}, 1,
     ["migrations/001_x.sql:2:17: syntax error: syntax error at end of input\n"
      "    create table b (\n                    ^", "Nothing was applied."]),
    ("non-utf8 on line 3", {"migrations/001_x.sql": b"\nselect 1;\nselect 'caf\xe9';\n"}, 1,
     ["migrations/001_x.sql:3:12: the file is not valid UTF-8 (byte 0xe9)"]),
    ("COMMIT in capitals", {"migrations/001_x.sql": "create table a (id int);\nCOMMIT;\n"}, 1,
     ["migrations/001_x.sql:2:1: statement 2 of 2 is transaction control (COMMIT)"]),
    ("drop database in a transactional file",
     {"migrations/001_x.sql": "-- drop the old one\n\ndrop database old;\n"}, 1,
     ["migrations/001_x.sql:3:1: statement 1 of 1 cannot run inside a transaction"]),
    ("digits that are not ASCII", {"migrations/\u0660\u0660\u0665_x.sql": "select 1;"}, 1,
     ["does not match NNN_name.sql"]),
    ("a folder named like a migration", {"migrations/005_dir.sql/inner.txt": "x"}, 1,
     ["migrations/005_dir.sql", "not regular files"]),
    ("cannot run in a transaction, found at run time",
     {"migrations/001_x.sql": "create table a (id int);\ncluster;\n"}, 1,
     ["migrations/001_x.sql:2:1", "25001", "-- storedb:no-transaction"]),
    ("object exists already (a database built by hand)",
     {"migrations/001_x.sql": "create table items (id int);\n"}, 1,
     ["42P07", "storedb baseline --through"]),
]


#: The cases the server decides (the others never reach it): also run on 14-18 (make test-matrix).
SERVER_CASES = {"missing relation on line 3", "constraint violation",
                "error inside a function body", "runtime error inside a function",
                "edited applied file", "cannot run in a transaction, found at run time",
                "object exists already (a database built by hand)"}


@pytest.mark.parametrize("name, files, code, expected", [
    pytest.param(*c, id=c[0], marks=[pytest.mark.matrix] if c[0] in SERVER_CASES else [])
    for c in CASES])
def test_bad_input(name: str, files: dict[str, str | bytes], code: int, expected: list[str],
                   empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(APPLIED)
    assert invoke("migrate", "--dsn", empty_dsn, "--dir", str(root)).code == 0
    before = snapshot(empty_dsn)
    sqldir(files)
    result = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    assert result.code == code, result.err
    for part in expected:
        assert part in result.err, f"{part!r} not in:\n{result.err}"
    assert "Traceback" not in result.err
    if code:
        assert snapshot(empty_dsn) == before


def test_out_of_order_file_is_refused(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir({"migrations/001_a.sql": "create table a (id int);",
                   "migrations/003_c.sql": "create table c (id int);"})
    invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    before = snapshot(empty_dsn)
    sqldir({"migrations/002_b.sql": "create table b (id int);"})
    result = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    assert result.code == 1
    assert "migrations/002_b.sql: pending, but sorts before files already applied" in result.err
    assert "--out-of-order" in result.err
    as_json = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root), "--json")
    assert as_json.code == 1
    assert json.loads(as_json.out)["error"]["files"] == ["migrations/002_b.sql"]
    assert snapshot(empty_dsn) == before


@pytest.mark.matrix
@pytest.mark.parametrize("change", ["removed", "renamed"])
def test_removed_or_renamed_applied_file(change: str, empty_dsn: str,
                                         sqldir: Callable[..., Path]) -> None:
    root = sqldir({**APPLIED, "migrations/001_a.sql": "create table a (id int);"})
    invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    before = snapshot(empty_dsn)
    old = root / "migrations" / "001_a.sql"
    if change == "renamed":
        old.rename(root / "migrations" / "001_renamed.sql")
    else:
        old.unlink()
    result = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    assert result.code == 1
    assert "migrations/001_a.sql: applied but no longer on disk" in result.err
    assert snapshot(empty_dsn) == before


@pytest.mark.matrix
def test_no_transaction_file_failing_at_statement_3_of_5(empty_dsn: str,
                                                          sqldir: Callable[..., Path]) -> None:
    root = sqldir({"migrations/001_idx.sql":
                   "-- storedb:no-transaction\ncreate table nt1 (id int);\n"
                   "create index concurrently nt1_id_idx on nt1 (id);\n"
                   "insert into missing values (1);\ncreate table nt4 (id int);\n"
                   "create table nt5 (id int);\n"})
    result = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    assert result.code == 1
    assert "migrations/001_idx.sql:4:13" in result.err
    assert "statements 1-2 of 5 were committed" in result.err
    assert "still pending" in result.err
    assert "nt1" in tables(empty_dsn) and "nt4" not in tables(empty_dsn)
    assert history(empty_dsn) == []


@pytest.mark.matrix
def test_statement_lock_timeout_names_the_holder(empty_dsn: str, sqldir: Callable[..., Path]
                                                 ) -> None:
    root = sqldir(APPLIED)
    invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    before = snapshot(empty_dsn)
    sqldir({"migrations/001_alter.sql": "alter table items add column name text;\n"})
    with psycopg.connect(empty_dsn, application_name="report-job") as blocker:
        blocker.execute("lock table items in access share mode")  # a long read transaction
        pid = blocker.info.backend_pid
        result = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root),
                         "--statement-lock-timeout", "0.3", "--lock-retries", "0")
        blocker.rollback()
    assert result.code == 1
    assert "lock timeout" in result.err and "55P03" in result.err
    assert f"items: AccessShareLock held by pid {pid} (report-job" in result.err
    assert snapshot(empty_dsn) == before


def test_wrong_password_is_not_echoed(migrated_db: psycopg.Connection[object],
                                      sqldir: Callable[..., Path]) -> None:
    info = migrated_db.info
    secret = "Wrong-Pass-9781"
    dsn = f"postgresql://{PASSWORD_USER}:{secret}@/{info.dbname}?host={info.host}&port={info.port}"
    result = invoke("migrate", "--dsn", dsn, "--dir", str(sqldir(APPLIED)))
    assert result.code == 1
    assert "password authentication failed" in result.err
    assert "check the user, password, database name" in result.err
    assert secret not in result.err + result.out
    good = dsn.replace(secret, PASSWORD)
    ok = invoke("status", "--dsn", good, "--dir", str(sqldir(APPLIED)), "--json")
    assert PASSWORD not in ok.out + ok.err


def test_unreachable_server_with_and_without_wait(tmp_path: Path, sqldir: Callable[..., Path]
                                                  ) -> None:
    dsn = f"host={tmp_path} port=5999 user=postgres dbname=x password=Sekret-77"
    started = time.monotonic()
    fast = invoke("migrate", "--dsn", dsn, "--dir", str(sqldir(APPLIED)))
    fast_time = time.monotonic() - started
    assert fast.code == 1 and "cannot connect" in fast.err and "--wait" in fast.err
    started = time.monotonic()
    slow = invoke("migrate", "--dsn", dsn, "--dir", str(sqldir(APPLIED)), "--wait", "1.5")
    assert slow.code == 1 and "after waiting 1.5s" in slow.err
    assert time.monotonic() - started >= 1.5 > fast_time - 0.5
    assert "Sekret-77" not in fast.err + slow.err


def test_usage_errors_exit_2(empty_dsn: str, sqldir: Callable[..., Path], tmp_path: Path) -> None:
    root = sqldir(APPLIED)
    cases = [
        (["migrate", "--dsn", empty_dsn, "--dir", str(root), "--target", "migrations/9_x.sql"],
         "no such file"),
        (["migrate", "--dsn", empty_dsn, "--dir", str(root), "--sql"], "--sql goes with"),
        (["migrate", "--dsn", empty_dsn, "--dir", str(tmp_path / "nope")], "does not exist"),
        (["migrate", "--no-such-option"], "No such option"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.code == 2, (args, result.err)
        assert message in result.err
    assert history(empty_dsn) == []


def test_json_error_on_failure(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir({"migrations/001_x.sql": "create table a (id int);\nselect * from nope;\n"})
    result = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root), "--json")
    assert result.code == 1
    error = json.loads(result.out)["error"]
    assert error["file"] == "migrations/001_x.sql"
    assert (error["line"], error["column"], error["sqlstate"]) == (2, 15, "42P01")
    assert 'relation "nope" does not exist' in error["message"]


@pytest.mark.matrix
def test_lock_timeout_is_retried_until_the_table_is_free(empty_dsn: str,
                                                         sqldir: Callable[..., Path]) -> None:
    import threading

    root = sqldir(APPLIED)
    invoke("migrate", "--dsn", empty_dsn, "--dir", str(root))
    sqldir({"migrations/001_alter.sql": "alter table items add column name text;\n"})
    def release_after_a_timed_out_wait(blocker: psycopg.Connection[object]) -> None:
        """Free the table once the runner has waited for it (a fixed delay is flaky under load)."""
        with psycopg.connect(empty_dsn, autocommit=True) as watch:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and watch.execute(
                    "select count(*) from pg_stat_activity where application_name = 'storedb' "
                    "and wait_event_type = 'Lock'").fetchone() == (0,):
                time.sleep(0.02)
        time.sleep(0.6)  # past the 0.3 s statement lock timeout: the first attempt failed
        blocker.rollback()

    with psycopg.connect(empty_dsn) as blocker:
        blocker.execute("lock table items in access share mode")
        release = threading.Thread(target=release_after_a_timed_out_wait, args=(blocker,))
        release.start()
        result = invoke("migrate", "--dsn", empty_dsn, "--dir", str(root),
                         "--statement-lock-timeout", "0.3", "--lock-retries", "4")
        release.join()
    assert result.code == 0, result.err
    assert "a lock wait timed out (attempt 1 of 5); retrying in 1s" in result.err
    assert "migrations/001_alter.sql" in [h[0] for h in history(empty_dsn)]
