"""Integrity rules of migration 013, as the application role."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
import pytest

from tests.helpers import in_store

Store = Callable[..., uuid.UUID]


def test_a_line_item_takes_its_orders_currency(app: psycopg.Connection[object],
                                               store: Store) -> None:
    a = store("int-currency")
    (order,), = in_store(app, a, "insert into orders (store_id) values (%s) returning id", (a,))
    line = ("insert into order_line_items (store_id, order_id, title, quantity, unit_price, "
            "currency_code) values (%s, %s, 'Mug', 1, 100, %s)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="currency_code_fkey"):
        in_store(app, a, line, (a, order, "JPY"))
    in_store(app, a, line, (a, order, "USD"))
    in_store(app, a, "update orders set currency_code = 'EUR' where id = %s", (order,))
    assert in_store(app, a, "select currency_code from order_line_items") == [("EUR",)]


def test_display_ids_cannot_overflow(app: psycopg.Connection[object], store: Store) -> None:
    a = store("int-display")
    with pytest.raises(psycopg.errors.CheckViolation, match="display_id_max_check"):
        in_store(app, a, "insert into orders (store_id, display_id) values (%s, 2147483647)",
                 (a,))
    assert in_store(app, a, "insert into orders (store_id) values (%s) returning display_id",
                    (a,)) == [(1,)]


def test_a_published_product_has_a_price(app: psycopg.Connection[object], store: Store) -> None:
    a = store("int-price")
    with pytest.raises(psycopg.errors.CheckViolation, match="products_published_price_check"):
        in_store(app, a, "insert into products (store_id, title, status) "
                         "values (%s, 'Free?', 'published')", (a,))
    in_store(app, a, "insert into products (store_id, title) values (%s, 'Draft')", (a,))
    with pytest.raises(psycopg.errors.CheckViolation, match="products_published_price_check"):
        in_store(app, a, "update products set status = 'published'")


def test_time_zones_come_from_the_servers_list(app: psycopg.Connection[object],
                                               store: Store) -> None:
    a = store("int-tz")
    for bad in ("XYZ+3", "Mars/Olympus", "+05:00"):
        with pytest.raises(psycopg.errors.CheckViolation, match="not recognized") as info:
            in_store(app, a, "update tenant_settings set timezone = %s", (bad,))
        assert info.value.diag.constraint_name == "tenant_settings_timezone_check"
    for good in ("Europe/Paris", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+3"):
        in_store(app, a, "update tenant_settings set timezone = %s", (good,))


def test_every_constraint_is_validated_on_the_shipped_schema(su: psycopg.Connection[object]
                                                             ) -> None:
    assert su.execute("select conname from pg_constraint c join pg_namespace n "
                      "on n.oid = c.connamespace where n.nspname = 'public' "
                      "and not c.convalidated").fetchall() == []
