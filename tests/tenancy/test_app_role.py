"""The application's login role: storedb.create_app_role / `storedb app-role`, and the
connected-role part of `check --tenancy`."""

from __future__ import annotations

import json

import psycopg
import pytest
from click.testing import CliRunner
from psycopg_pool import ConnectionPool

import storedb
from storedb.cli import main
from tests.helpers import run_cli


def role(su: psycopg.Connection, name: str) -> tuple | None:
    return su.execute(
        "select rolcanlogin, rolsuper, rolbypassrls, pg_has_role(oid, 'storedb_app', 'member'),"
        " rolpassword from pg_authid where rolname = %s", (name,)).fetchone()


@pytest.fixture
def su(migrated_db: psycopg.Connection) -> psycopg.Connection:
    migrated_db.commit()
    migrated_db.autocommit = True
    return migrated_db


def test_create_app_role_is_idempotent_and_hashes_the_password(su, owner_dsn) -> None:
    assert storedb.create_app_role(owner_dsn, "web_app", password="S3cret-pw") is True
    login, superuser, bypass, member, password = role(su, "web_app")
    assert (login, superuser, bypass, member) == (True, False, False, True)
    assert password.startswith("SCRAM-SHA-256$") and "S3cret-pw" not in password
    with ConnectionPool(owner_dsn, min_size=1, max_size=1, open=True) as pool:  # a pool too
        assert storedb.create_app_role(pool, "web_app") is False
    assert role(su, "web_app")[4] == password  # no password given: kept
    su.execute("alter role web_app nologin")
    su.execute("revoke storedb_app from web_app")
    assert storedb.create_app_role(owner_dsn, "web_app", password="other") is False
    login, _, _, member, changed = role(su, "web_app")
    assert login and member and changed != password


def test_roles_that_bypass_rls_or_own_tables_are_refused(su, owner_dsn) -> None:
    su.execute("create role sneaky login bypassrls")
    with pytest.raises(storedb.IsolationError, match="BYPASSRLS"):
        storedb.create_app_role(owner_dsn, "sneaky")
    with pytest.raises(storedb.IsolationError, match="owner"):
        storedb.create_app_role(owner_dsn, "storedb_owner")


def test_before_migrating_it_says_to_migrate(empty_dsn, monkeypatch) -> None:
    from storedb.tenancy import _app_role

    monkeypatch.setattr(_app_role, "APP_GROUP", "storedb_app_not_made_yet")  # roles are global
    with pytest.raises(storedb.Error, match="migrate this database first"):
        storedb.create_app_role(empty_dsn, "web_app")


def test_cli_takes_the_password_from_the_environment_or_stdin(su, owner_dsn) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["app-role", "env_app", "--password-env", "APP_PW", "--dsn",
                                owner_dsn, "--json"], env={"APP_PW": "from-env-1"})
    assert made.exit_code == 0, made.output
    assert json.loads(made.output) == {"role": "env_app", "state": "created",
                                       "password_set": True}
    assert "from-env-1" not in made.output
    piped = runner.invoke(main, ["app-role", "env_app", "--password-stdin", "--dsn", owner_dsn],
                          input="from-stdin-2\n")
    assert piped.exit_code == 0 and "role env_app exists" in piped.output
    assert role(su, "env_app")[3]
    unset = run_cli("app-role", "x_app", "--password-env", "NOPE_UNSET", "--dsn", owner_dsn)
    assert unset.code == 2 and "NOPE_UNSET" in unset.err
    argv = run_cli("app-role", "x_app", "--password", "oops", "--dsn", owner_dsn)
    assert argv.code == 2  # no way to put a password on the command line


def test_check_tenancy_proves_the_app_role_is_isolated(app_dsn, owner_dsn, su) -> None:
    ok = run_cli("check", "--tenancy", "--dsn", app_dsn)
    assert ok.code == 0, ok.out + ok.err
    assert "role app_user is isolated" in ok.out
    assert "files not compared" in ok.out  # the app's role may not read the history
    as_owner = storedb.check_tenancy(owner_dsn)
    assert as_owner.ok and "application's DSN" in as_owner.role
    su.execute("alter role app_user bypassrls")
    try:
        bad = run_cli("check", "--tenancy", "--dsn", app_dsn)
        assert bad.code == 3
        assert "role app_user (member of storedb_app) has BYPASSRLS" in bad.out
        assert "nobypassrls" in bad.out and "role app_user is not isolated" in bad.out
    finally:
        su.execute("alter role app_user nobypassrls")


def test_migrate_takes_a_pool_and_sqlalchemy_style_urls(owner_dsn, migrated_db) -> None:
    with ConnectionPool(owner_dsn, min_size=1, max_size=1, open=True,
                        kwargs={"row_factory": psycopg.rows.dict_row}) as pool:
        assert storedb.migrate(pool).up_to_date
        assert storedb.status(pool).entries
    info = migrated_db.info
    for scheme in ("postgresql+psycopg", "postgresql+psycopg2", "postgres"):
        url = f"{scheme}://storedb_owner:pw@/{info.dbname}?host={info.host}&port={info.port}"
        assert storedb.check(url).ok
        assert storedb._connection.redact(url).count("pw") == 0
