"""Column privileges (migration 010), as the app role: what the platform owns stays its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
import pytest

from tests.helpers import in_store

Store = Callable[..., uuid.UUID]


def test_app_cannot_change_billing_or_status_of_its_store(app: psycopg.Connection[object],
                                                        store: Store) -> None:
    a = store("priv-billing")
    for column, value in (("subscription_plan", "enterprise"), ("subscription_status", "active"),
                          ("status", "active"), ("subdomain", "other-name"),
                          ("trial_ends_at", None), ("deleted_at", None)):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            in_store(app, a, f"update tenants set {column} = %s where id = %s", (value, a))
    in_store(app, a, "update tenants set name = 'Renamed', metadata = '{\"k\": 1}' where id = %s",
             (a,))
    assert in_store(app, a, "select name, subscription_plan::text from tenants") == [
        ("Renamed", "free")]


def test_order_numbers_belong_to_the_platform(app: psycopg.Connection[object],
                                              su: psycopg.Connection[object],
                                              store: Store) -> None:
    a = store("priv-counter")
    rows = in_store(app, a, "insert into orders (store_id) values (%s), (%s) returning display_id",
                    (a, a))
    assert sorted(r[0] for r in rows) == [1, 2]  # type: ignore[type-var]
    for sql in ("update order_display_id_counters set last_display_id = 0",
                "delete from order_display_id_counters",
                "update orders set display_id = 1"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            in_store(app, a, sql)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        in_store(app, a, "insert into order_display_id_counters (store_id, last_display_id) "
                         "values (%s, 0)", (a,))
    # not even the owner lowers a counter
    with pytest.raises(psycopg.errors.CheckViolation, match="cannot go down"):
        su.execute("update order_display_id_counters set last_display_id = 0 where store_id = %s",
                   (a,))
    su.rollback()
    assert in_store(app, a, "insert into orders (store_id) values (%s) returning display_id",
                    (a,)) == [(3,)]


def test_financial_rows_cannot_be_hard_deleted(app: psycopg.Connection[object],
                                               store: Store) -> None:
    a = store("priv-delete")
    (order,), = in_store(app, a, "insert into orders (store_id) values (%s) returning id", (a,))
    in_store(app, a, "insert into order_line_items (store_id, order_id, title, quantity, "
                     "unit_price, currency_code) values (%s, %s, 'Mug', 1, 100, 'USD')",
             (a, order))
    for table in ("orders", "order_line_items"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            in_store(app, a, f"delete from {table}")
    in_store(app, a, "update orders set deleted_at = now(), status = 'canceled'")  # soft delete
    assert in_store(app, a, "select count(*) from order_line_items") == [(1,)]


def test_orders_take_the_store_currency(app: psycopg.Connection[object], store: Store) -> None:
    eur = store("priv-euro", "EUR")
    assert in_store(app, eur, "insert into orders (store_id) values (%s) returning currency_code",
                    (eur,)) == [("EUR",)]
    assert in_store(app, eur, "insert into orders (store_id, currency_code) values (%s, 'USD') "
                              "returning currency_code", (eur,)) == [("USD",)]


def test_a_domain_claim_reveals_nothing_about_other_stores(app: psycopg.Connection[object],
                                                           su: psycopg.Connection[object],
                                                           store: Store) -> None:
    a, b = store("priv-dom-a"), store("priv-dom-b")
    insert = "insert into tenant_domains (store_id, domain) values (%s, 'shop.example.com')"
    in_store(app, a, insert, (a,))
    in_store(app, b, insert, (b,))  # no unique violation: B learns nothing about A
    with pytest.raises(psycopg.errors.UniqueViolation):  # once per store, though
        in_store(app, b, insert, (b,))
    # the platform verifies the store whose DNS token matched; one verified claim at most
    with pytest.raises(psycopg.errors.CardinalityViolation):
        su.execute("select verify_tenant_domain('shop.example.com')")
    su.rollback()
    assert su.execute("select verify_tenant_domain('shop.example.com', %s)",
                      (a,)).fetchone() == (a,)
    su.commit()
    with pytest.raises(psycopg.errors.UniqueViolation):
        su.execute("select verify_tenant_domain('shop.example.com', %s)", (b,))
    su.rollback()
    assert su.execute("select resolve_store_id('shop.example.com')").fetchone() == (a,)
