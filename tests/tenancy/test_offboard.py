"""Offboarding (migration 015, storedb.offboard_tenant): a store leaves in small transactions."""

from __future__ import annotations

import itertools
import uuid

import psycopg
import pytest

import storedb
from tests.helpers import run_cli

TABLES = ("products", "orders", "order_line_items", "users", "store_configs", "tenant_settings",
          "audit_log", "order_display_id_counters")


def _store(su: psycopg.Connection, subdomain: str, products: int) -> uuid.UUID:
    store = su.execute("select create_tenant(%s, 'Leaving')", (subdomain,)).fetchone()[0]
    su.execute("select set_config('app.current_store_id', %s, true)", (str(store),))
    su.execute("insert into products (store_id, title, price) "
               "select %s, 'P' || i, 1 from generate_series(1, %s) i", (store, products))
    su.execute("insert into orders (store_id) select %s from generate_series(1, 50)", (store,))
    su.execute("insert into order_line_items (store_id, order_id, product_id, title, quantity, "
               "unit_price, currency_code) select o.store_id, o.id, p.id, 'P', 1, 1, 'USD' "
               "from orders o cross join lateral (select id from products p "
               "where p.store_id = o.store_id limit 3) p where o.store_id = %s", (store,))
    su.execute("insert into users (store_id, email) values (%s, 'a@b.example')", (store,))
    su.commit()
    return uuid.UUID(str(store))


def _count(su: psycopg.Connection, table: str, store: uuid.UUID) -> int:
    return su.execute(f"select count(*) from {table} where store_id = %s",
                      (store,)).fetchone()[0]


def test_offboarding_deletes_in_batches_and_leaves_a_record(migrated_db, owner_dsn):
    su = migrated_db
    leaving, staying = _store(su, "leaving", 600), _store(su, "staying", 10)
    before = {t: _count(su, t, staying) for t in TABLES}
    with pytest.raises(storedb.TenantError, match="soft-delete it first"):
        storedb.offboard_tenant(owner_dsn, leaving)
    su.execute("select soft_delete_tenant(%s)", (leaving,))
    su.commit()
    # one batch by hand, then a crash: the rest resumes where it stopped
    with psycopg.connect(owner_dsn, autocommit=True) as owner:
        assert owner.execute("select * from offboard_tenant_step(%s, 100)",
                             (leaving,)).fetchone() == ("order_line_items", 100, False)
    steps: list[storedb.OffboardStep] = []
    result = storedb.offboard_tenant(owner_dsn, leaving, batch_rows=100, progress=steps.append)
    assert result.batches == len(steps) > 8 and steps[-1].finished
    assert max(s.rows for s in steps) <= 100_000
    assert {s.table for s in steps} >= {"order_line_items", "orders", "products", "tenants"}
    # each table starts at the first batch size: another table's pace says nothing about it
    firsts = [s for prev, s in itertools.pairwise(steps) if s.table != prev.table]
    assert firsts and all(s.batch_rows == 100 for s in firsts), firsts
    su.rollback()
    for table in TABLES:
        assert _count(su, table, leaving) == 0, table
    assert su.execute("select count(*) from tenants where id = %s", (leaving,)).fetchone() == (0,)
    record = su.execute("select subdomain, rows_deleted from tenant_deletions "
                        "where tenant_id = %s", (leaving,)).fetchone()
    assert record is not None and record[0] == "leaving" and record[1] == result.rows
    assert {t: _count(su, t, staying) for t in TABLES} == before
    # running it again is a no-op that says it is done
    assert storedb.offboard_tenant(owner_dsn, leaving).rows == 0
    with pytest.raises(storedb.TenantNotFound):
        storedb.offboard_tenant(owner_dsn, uuid.uuid4())


def test_a_table_emptied_by_a_full_batch_hands_no_batch_size_to_the_next(migrated_db,
                                                                        owner_dsn):
    # exactly one batch of products: the batch that empties the table is full, yet the next
    # table (whose rows may cost far more) must start at the first batch size again
    su = migrated_db
    store = su.execute("select create_tenant('exact-fill', 'Leaving')").fetchone()[0]
    su.execute("select set_config('app.current_store_id', %s, true)", (str(store),))
    su.execute("insert into products (store_id, title, price) "
               "select %s, 'P' || i, 1 from generate_series(1, 100) i", (store,))
    su.execute("insert into users (store_id, email) values (%s, 'a@b.example')", (store,))
    su.execute("select soft_delete_tenant(%s)", (store,))
    su.commit()
    steps: list[storedb.OffboardStep] = []
    storedb.offboard_tenant(owner_dsn, store, batch_rows=100, max_seconds=60,
                            progress=steps.append)
    products = [s for s in steps if s.table == "products"]
    assert [(s.rows, s.batch_rows) for s in products] == [(100, 100)]
    after = steps[steps.index(products[0]) + 1]
    assert after.table != "products" and after.batch_rows == 100, steps


def test_offboard_command(migrated_db, owner_dsn):
    su = migrated_db
    store = _store(su, "cli-leaving", 5)
    refused = run_cli("offboard", str(store), "--dsn", owner_dsn)
    assert refused.code == 1 and "soft-delete it first" in refused.err
    su.execute("select soft_delete_tenant(%s)", (store,))
    su.commit()
    done = run_cli("offboard", str(store), "--dsn", owner_dsn, "--json")
    assert done.code == 0, done.err
    assert '"rows": ' in done.out and _count(su, "products", store) == 0
    assert run_cli("offboard", "not-a-uuid", "--dsn", owner_dsn).code == 2
