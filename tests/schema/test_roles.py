"""Cluster-wide roles created by 003: safe when several databases migrate at once.

Roles are shared by every database of a server.  In fleet mode
(``storedb migrate --dsn a --dsn b ...``) two databases run 003 at the same
time; a plain "check, then create" lets both see no role and both create it,
and the loser fails on ``pg_authid_rolname_index``.  The roles exist already
in the test cluster, so these tests run 003's own role block with fresh role
names substituted.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.helpers import OWNER, SQL_DIR, dsn_of

pytestmark = pytest.mark.matrix  # also on PostgreSQL 14-18: make test-matrix

RLS_FILE = SQL_DIR / "migrations" / "003_enable_row_level_security.sql"
WORKERS = 4
HOLD = 1.0  # seconds the first creator keeps its transaction open: the others race into it


def role_block(app_role: str, definer_role: str) -> str:
    """The DO block of 003 that creates the roles, for other role names."""
    text = RLS_FILE.read_text()
    match = re.search(r"^do \$\$\n.*?^\$\$;", text, re.S | re.M)
    assert match is not None and "create role storedb_app" in match.group(0)
    return match.group(0).replace("storedb_definer", definer_role).replace(
        "storedb_app", app_role)


@pytest.fixture
def su_dsn(migrated_db: psycopg.Connection) -> Iterator[str]:
    migrated_db.commit()
    yield dsn_of(migrated_db)


@pytest.fixture
def fresh_roles(su_dsn: str) -> Iterator[tuple[str, str]]:
    """Two role names that exist nowhere yet; dropped afterwards."""
    tag = uuid.uuid4().hex[:8]
    names = (f"t_app_{tag}", f"t_definer_{tag}")
    yield names
    with psycopg.connect(su_dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(f"drop role if exists {name}")


def race(dsn: str, sql: str) -> list[BaseException | None]:
    """Run ``sql`` from WORKERS connections at once, each in its own transaction.

    Every worker holds its transaction open for HOLD seconds before committing,
    so the workers that did not create a role first find the creator's
    uncommitted row in the unique index and wait for its commit.
    """
    barrier = threading.Barrier(WORKERS)
    outcome: list[BaseException | None] = [None] * WORKERS

    def work(i: int) -> None:
        try:
            with psycopg.connect(dsn) as conn:
                barrier.wait(timeout=10)
                conn.execute(sql)
                time.sleep(HOLD)
                conn.commit()
        except BaseException as exc:  # reported to the test
            outcome[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return outcome


def roles(dsn: str, *names: str) -> list[tuple[str, bool, bool]]:
    with psycopg.connect(dsn) as conn:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            "select rolname, rolcanlogin, rolbypassrls from pg_roles "
            "where rolname = any(%s) order by rolname", (list(names),))]


def test_plain_check_then_create_really_races(su_dsn, fresh_roles):
    """Control: the harness reproduces the fleet failure with the naive pattern."""
    app_role, _ = fresh_roles
    naive = (f"do $$ begin if not exists (select from pg_roles where rolname = '{app_role}') "
             f"then create role {app_role} nologin; end if; end $$")
    outcome = race(su_dsn, naive)
    failures = [e for e in outcome if e is not None]
    assert failures, "no worker lost the race: the test would prove nothing"
    assert all(isinstance(e, psycopg.errors.UniqueViolation) for e in failures), failures
    assert "pg_authid_rolname_index" in str(failures[0])


def test_role_block_of_003_survives_concurrent_first_deploys(su_dsn, fresh_roles):
    app_role, definer_role = fresh_roles
    outcome = race(su_dsn, role_block(app_role, definer_role))
    assert outcome == [None] * WORKERS
    assert roles(su_dsn, app_role, definer_role) == [
        (app_role, False, False), (definer_role, False, True)]  # once each, right attributes
    with psycopg.connect(su_dsn) as conn:
        comments = conn.execute(
            "select count(*) from pg_shdescription d join pg_roles r on r.oid = d.objoid "
            "where r.rolname = any(%s)", ([app_role, definer_role],)).fetchone()
    assert comments == (2,)


def test_missing_definer_as_non_superuser_keeps_the_helpful_error(migrated_db, fresh_roles):
    """A non-superuser gets 42501 from CREATE ROLE ... BYPASSRLS: 003 explains what to do."""
    migrated_db.commit()
    app_role, definer_role = fresh_roles
    with psycopg.connect(dsn_of(migrated_db, OWNER)) as owner:
        assert owner.execute("select rolsuper, rolcreaterole from pg_roles "
                             "where rolname = current_user").fetchone() == (False, True)
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
            owner.execute(role_block(app_role, definer_role))
    diag = info.value.diag
    assert diag.message_primary == (f"role {definer_role} does not exist and only a superuser "
                                    "can create a BYPASSRLS role")
    assert diag.message_hint == (f"run as a superuser first: create role {definer_role} "
                                 f"nologin bypassrls; grant {definer_role} to {OWNER};")
    # the whole block rolled back: not even the app role it could create is left
    assert roles(dsn_of(migrated_db), app_role, definer_role) == []


def test_migrator_outside_an_existing_definer_role_is_told_what_to_run(
        empty_dsn: str, migrated_db: psycopg.Connection) -> None:  # migrated_db: the roles exist
    import storedb

    role = f"mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(empty_dsn, autocommit=True) as su:  # storedb_definer already exists
        su.execute(f"create role {role} login")  # no CREATEROLE: may not grant roles
        dbname = su.info.dbname
        su.execute(f"alter database {dbname} owner to {role}")
        su.execute(f"alter schema public owner to {role}")
    try:
        with pytest.raises(storedb.MigrationFailed) as err:
            storedb.migrate(empty_dsn.replace("user=postgres", f"user={role}"),
                            directory=SQL_DIR)
        assert err.value.file == "migrations/003_enable_row_level_security.sql"
        assert f"run as a superuser once: grant storedb_definer to {role};" in str(err.value)
    finally:
        with psycopg.connect(empty_dsn, autocommit=True) as su:
            su.execute(f"alter database {dbname} owner to postgres")
            su.execute("alter schema public owner to pg_database_owner")
            su.execute(f"drop owned by {role} cascade")
            su.execute(f"drop role {role}")
