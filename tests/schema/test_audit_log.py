"""audit_log by month (migration 009): compact rows, retention, erasure, hard-delete trace."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
import pytest

from tests.helpers import in_store

Store = Callable[..., uuid.UUID]


def test_audit_log_is_partitioned_by_month_with_a_default(su: psycopg.Connection[object]) -> None:
    assert su.execute("select partstrat from pg_partitioned_table "
                      "where partrelid = 'audit_log'::regclass").fetchone() == ("r",)
    parts = {r[0] for r in su.execute(
        "select c.relname from pg_inherits h join pg_class c on c.oid = h.inhrelid "
        "where h.inhparent = 'audit_log'::regclass")}
    assert {"audit_log_p_legacy", "audit_log_p_default"} <= parts
    assert len([p for p in parts if p[len("audit_log_p"):].isdigit()]) >= 3  # months ahead
    # running it again creates nothing new
    assert su.execute("select count(*) from audit_log_create_partitions(3)").fetchone() == (0,)


def test_one_column_update_holds_only_that_column(app: psycopg.Connection[object],
                                                  su: psycopg.Connection[object],
                                                  store: Store) -> None:
    a = store("audit-small")
    (pid,), = in_store(app, a, "insert into products (store_id, title, price, description) "
                               "values (%s, 'Mug', 100, repeat('long text ', 100)) returning id",
                       (a,))
    in_store(app, a, "update products set inventory_quantity = 5 where id = %s", (pid,))
    row = su.execute("select old_row, new_row, changed_columns, pg_column_size(a.*) "
                     "from audit_log a where operation = 'update' and table_name = 'products'"
                     ).fetchone()
    assert row is not None
    assert row[:3] == ({"inventory_quantity": 0}, {"inventory_quantity": 5},
                       ["inventory_quantity"])
    assert row[3] <= 512
    # an insert row is the key; a delete (as the owner) keeps the row without NULLs
    ins = su.execute("select row_key, new_row from audit_log where operation = 'insert' "
                     "and table_name = 'products'").fetchone()
    assert ins == ({"store_id": str(a), "id": str(pid)}, None)


def test_retention_drops_whole_partitions(su: psycopg.Connection[object]) -> None:
    assert su.execute("select * from audit_log_drop_partitions('13 months')").fetchall() == []
    # a retention shorter than the age of the legacy rows (they end next month) drops it
    dropped = [r[0] for r in su.execute("select * from audit_log_drop_partitions('-1 month')")]
    assert dropped == ["audit_log_p_legacy"]
    assert su.execute("select to_regclass('audit_log_p_legacy')").fetchone() == (None,)
    assert su.execute("select to_regclass('audit_log_p_default')").fetchone() != (None,)


def test_erasure_forgets_a_customer_in_orders_and_their_history(
        app: psycopg.Connection[object], su: psycopg.Connection[object], store: Store) -> None:
    a = store("audit-erase")
    (oid,), = in_store(app, a, "insert into orders (store_id, customer_email, customer_name, "
                               "shipping_city) values (%s, 'jo@example.com', 'Jo', 'Lyon') "
                               "returning id", (a,))
    in_store(app, a, "update orders set customer_name = 'Jo Doe', shipping_city = 'Nice' "
                     "where id = %s", (oid,))
    (keep,), = in_store(app, a, "insert into orders (store_id, customer_email, customer_name) "
                                "values (%s, 'other@example.com', 'Al') returning id", (a,))
    assert in_store(app, a, "select erase_customer_pii('Jo@Example.com')") == [(1,)]
    assert in_store(app, a, "select customer_email, customer_name, shipping_city from orders "
                            "where id = %s", (oid,)) == [(None, None, None)]
    leaked = su.execute("select count(*) from audit_log where store_id = %s and "
                        "(old_row::text ~ 'Jo|Lyon|Nice|jo@' "
                        "or new_row::text ~ 'Jo|Lyon|Nice|jo@')",
                        (a,)).fetchone()
    assert leaked == (0,)
    assert in_store(app, a, "select customer_name from orders where id = %s", (keep,)) == [("Al",)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # needs a store
        app.execute("select erase_customer_pii('jo@example.com')")


def test_a_hard_deleted_tenant_leaves_a_record(su: psycopg.Connection[object],
                                               store: Store) -> None:
    a = store("audit-gone")
    su.execute("delete from tenants where id = %s", (a,))
    su.commit()
    assert su.execute("select subdomain, deleted_by from tenant_deletions where tenant_id = %s",
                      (a,)).fetchone() == ("audit-gone", "postgres")
