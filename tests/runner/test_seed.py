"""``storedb seed``: demo data only for development databases, and idempotent."""

from __future__ import annotations

import psycopg
import pytest

import storedb
from storedb import seed as load_seed
from tests.helpers import run_cli

DEMO = ["atelier-ceramique", "brew-bros-coffee", "nordic-threads"]
LOG = "storedb.schema_migrations_log"  # records every seed run: not business data


def snapshot(su: psycopg.Connection, *, skip: tuple[str, ...] = ()) -> dict[str, str | None]:
    """A content hash of every table in public (superuser: RLS does not hide rows)."""
    su.commit()
    names = [r[0] for r in su.execute(
        "select tablename from pg_tables where schemaname = 'public' order by 1")]
    out = {}
    for name in names:
        if name in skip:
            continue
        out[name] = su.execute(f"select md5(string_agg(t::text, ',' order by t::text)) "
                               f"from {name} t").fetchone()[0]
    su.commit()
    return out


def subdomains(su: psycopg.Connection) -> list[str]:
    rows = su.execute("select subdomain from tenants order by 1").fetchall()
    su.commit()
    return [r[0] for r in rows]


@pytest.fixture
def su(migrated_db: psycopg.Connection) -> psycopg.Connection:
    migrated_db.commit()
    return migrated_db


def test_seed_is_refused_on_a_database_not_marked_development(su, owner_dsn):
    before = snapshot(su)
    with pytest.raises(storedb.SeedRefused) as info:
        load_seed(owner_dsn)
    message = str(info.value)
    assert "development" in message and "--force" in message  # says what to do
    assert snapshot(su) == before
    assert subdomains(su) == []


def test_cli_seed_is_refused_with_exit_1_and_changes_nothing(su, owner_dsn):
    before = snapshot(su)
    result = run_cli("seed", "--dsn", owner_dsn)
    assert result.code == 1, result.out + result.err
    assert "refusing to load development data" in result.err
    assert "Traceback" not in result.err
    assert snapshot(su) == before


def test_forced_seed_loads_the_demo_stores_and_a_second_run_changes_nothing(su, owner_dsn):
    applied = load_seed(owner_dsn, force=True)
    assert applied == ["seed/01_demo_stores.sql"]
    assert subdomains(su) == DEMO
    counts = su.execute(
        "select (select count(*) from products), (select count(*) from orders), "
        "(select count(*) from order_line_items), (select count(*) from users), "
        "(select count(*) from audit_log), (select count(*) from order_display_id_counters)"
    ).fetchone()
    assert all(n > 0 for n in counts), counts
    # explicit display_ids raised the counters: the next order continues the numbering
    numbering = su.execute(
        "select max(o.display_id), c.last_display_id from orders o "
        "join order_display_id_counters c using (store_id) group by o.store_id, 2").fetchall()
    assert len(numbering) == 3 and all(top == last for top, last in numbering), numbering
    first = snapshot(su, skip=(LOG,))

    # second run: now marked development, so no --force needed; nothing changes
    assert load_seed(owner_dsn) == ["seed/01_demo_stores.sql"]
    assert snapshot(su, skip=(LOG,)) == first
    # via the CLI as well
    result = run_cli("seed", "--dsn", owner_dsn)
    assert result.code == 0, result.out + result.err
    assert "seeded seed/01_demo_stores.sql" in result.out
    assert snapshot(su, skip=(LOG,)) == first

    log = su.execute(f"select event, detail from {LOG} where event in ('seed', 'environment') "
                     "order by id").fetchall()
    # marked for development only once the forced seed's data was in
    assert log == [("seed", "applied"), ("environment", "development"), ("seed", "applied"),
                   ("seed", "applied")]


def test_seed_leaves_other_stores_alone_and_restores_missing_demo_rows(su, owner_dsn):
    mine = storedb.create_tenant(su, subdomain="my-shop", name="My Shop", allow_bypass=True)
    su.commit()
    mine_before = su.execute("select md5(t::text) from tenants t where id = %s",
                             (mine.id,)).fetchone()
    load_seed(owner_dsn, force=True)
    # a demo product deleted by hand comes back on the next run; edited rows stay edited
    su.execute("delete from products where handle = 'gift-card'")
    su.execute("update products set title = 'Renamed' where handle = 'merino-crew-sweater'")
    su.commit()
    load_seed(owner_dsn)
    assert su.execute("select count(*) from products where handle = 'gift-card'"
                      ).fetchone() == (1,)
    assert su.execute("select title from products where handle = 'merino-crew-sweater'"
                      ).fetchone() == ("Renamed",)
    assert su.execute("select md5(t::text) from tenants t where id = %s",
                      (mine.id,)).fetchone() == mine_before
    assert subdomains(su) == sorted([*DEMO, "my-shop"])


def test_seed_before_migrate_says_to_migrate_first(empty_dsn):
    from tests.helpers import tables

    with pytest.raises(storedb.HistoryError, match="run 'storedb migrate' first"):
        load_seed(empty_dsn, force=True)
    assert tables(empty_dsn) == set()  # nothing created, not even the history
