"""Soft delete (migration 011), as the application role: a deleted store is gone for the app."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
import pytest

from tests.helpers import in_store

Store = Callable[..., uuid.UUID]


def _fill(app: psycopg.Connection[object], store_id: uuid.UUID) -> None:
    in_store(app, store_id, "insert into products (store_id, title, price) values (%s, 'Mug', 1)",
             (store_id,))
    in_store(app, store_id, "insert into users (store_id, email) values (%s, 'a@b.example')",
             (store_id,))


def test_a_deleted_store_is_invisible_and_read_only(app: psycopg.Connection[object],
                                                    su: psycopg.Connection[object],
                                                    store: Store) -> None:
    a, b = store("soft-a"), store("soft-b")
    _fill(app, a)
    _fill(app, b)
    in_store(app, a, "select soft_delete_tenant(%s)", (a,))
    for table in ("products", "users", "store_configs", "tenant_settings", "audit_log",
                  "orders"):
        assert in_store(app, a, f"select count(*) from {table}") == [(0,)], table
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        in_store(app, a, "insert into products (store_id, title) values (%s, 'New')", (a,))
    assert in_store(app, a, "update tenants set name = 'Back' where id = %s", (a,)) == []
    # the tenant row itself stays readable, so the app can say the store was deleted
    assert in_store(app, a, "select status::text from tenants") == [("archived",)]
    # nothing was deleted, and the other store is untouched
    assert su.execute("select count(*) from products where store_id = %s",
                      (a,)).fetchone() == (1,)
    assert in_store(app, b, "select count(*) from products") == [(1,)]
    # the policy is evaluated once per statement, not per row
    plan = "\n".join(r[0] for r in in_store(  # type: ignore[misc]
        app, b, "explain select * from products"))
    assert "Filter: $0" in plan and "InitPlan 1 (returns $0)" in plan, plan


def test_status_and_deleted_at_cannot_disagree(app: psycopg.Connection[object],
                                               su: psycopg.Connection[object],
                                               store: Store) -> None:
    a = store("soft-status")
    with pytest.raises(psycopg.errors.CheckViolation, match="tenants_status_deleted_at_check"):
        su.execute("update tenants set status = 'archived' where id = %s", (a,))
    su.rollback()
    _fill(app, a)
    for sql in ("update users set status = 'archived'", "update users set deleted_at = now()"):
        with pytest.raises(psycopg.errors.CheckViolation, match="users_status_deleted_at_check"):
            in_store(app, a, sql)
    in_store(app, a, "update users set status = 'archived', deleted_at = now()")


def test_deleted_store_releases_its_domains_and_restore_handles_a_reused_subdomain(
        app: psycopg.Connection[object], su: psycopg.Connection[object], store: Store) -> None:
    a = store("soft-restore")
    claim = "insert into tenant_domains (store_id, domain) values (%s, 'shop.soft.example')"
    in_store(app, a, claim, (a,))
    su.execute("select verify_tenant_domain('shop.soft.example')")
    su.commit()
    in_store(app, a, "select soft_delete_tenant(%s)", (a,))
    # the hostname is free: another store claims and gets it verified
    b = store("soft-restore")  # the subdomain is reused too
    in_store(app, b, claim, (b,))
    assert su.execute("select verify_tenant_domain('shop.soft.example', %s)",
                      (b,)).fetchone() == (b,)
    su.commit()
    assert su.execute("select resolve_store_id('shop.soft.example')").fetchone() == (b,)

    with pytest.raises(psycopg.errors.UniqueViolation, match="another store") as info:
        su.execute("select restore_tenant(%s)", (a,))
    assert "restore_tenant(" in (info.value.diag.message_hint or "")
    su.rollback()
    assert su.execute("select restore_tenant(%s, 'soft-restore-2')", (a,)).fetchone() == (
        "soft-restore-2",)
    su.commit()
    assert in_store(app, a, "select count(*) from tenant_settings") == [(1,)]  # visible again
    assert su.execute("select resolve_store_id('soft-restore-2')").fetchone() == (a,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the platform's, not the app's
        app.execute("select restore_tenant(%s)", (a,))
