"""The tenant DAO: creating, finding and soft-deleting stores.

The rules live in SQL (``create_tenant``, ``soft_delete_tenant`` and
``resolve_store_id`` in infra/db); this module calls them with parameters
only and turns their errors, recognised by constraint name and SQLSTATE,
into :class:`storedb.TenantError` subclasses with advice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from .errors import InvalidSubdomain, SubdomainTaken, TenantAlreadyDeleted, TenantNotFound
from .scope import Db, borrow


@dataclass(frozen=True)
class Tenant:
    """A store, as the ``tenants`` table holds it."""

    id: UUID
    subdomain: str
    name: str
    status: str
    subscription_plan: str
    subscription_status: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


_COLUMNS = ("id, subdomain, name, status::text, subscription_plan::text,"
            " subscription_status::text, created_at, updated_at, deleted_at")


@contextlib.contextmanager
def _translated(subdomain: str | None = None, tenant: object = None) -> Iterator[None]:
    import psycopg

    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name == "tenants_subdomain_key":
            raise SubdomainTaken(f"subdomain {subdomain!r} is already taken by another store; "
                                 "choose another one.") from exc
        raise
    except psycopg.errors.CheckViolation as exc:
        constraint = exc.diag.constraint_name or ""
        if constraint == "tenants_subdomain_reserved_check":
            raise InvalidSubdomain(f"subdomain {subdomain!r} is reserved for the platform "
                                   "(www, api, admin, ...); choose another one.") from exc
        if constraint.startswith("tenants_subdomain"):
            raise InvalidSubdomain(
                f"subdomain {subdomain!r} is not a valid DNS label: use 1-63 lower-case letters, "
                "digits and hyphens, not starting or ending with a hyphen.") from exc
        raise
    except psycopg.errors.NoDataFound as exc:
        raise TenantNotFound(f"no tenant with id {tenant}; check the id "
                             "(get_tenant finds one by subdomain).") from exc
    except psycopg.errors.ObjectNotInPrerequisiteState as exc:
        raise TenantAlreadyDeleted(f"tenant {tenant} is already deleted; nothing was "
                                   "changed.") from exc


def _read(conn: Any, tenant_id: UUID | str) -> Tenant | None:
    """Read one tenant row with its own store set (RLS shows a store only itself)."""
    row = conn.execute(
        "select current_setting('app.current_store_id', true), set_current_store_id(%s)",
        (str(tenant_id),)).fetchone()
    found = conn.execute(f"select {_COLUMNS} from tenants where id = %s",
                         (str(tenant_id),)).fetchone()
    conn.execute("select set_config('app.current_store_id', %s, true)",
                 (row[0] if row and row[0] else "",))
    return Tenant(*found) if found else None


def create_tenant(db: Db, *, subdomain: str, name: str, plan: str | None = None,
                  locale: str | None = None, timezone: str | None = None,
                  currency_code: str | None = None) -> Tenant:
    """Create a store with its config and settings in one transaction."""
    args: dict[str, Any] = {"p_subdomain": subdomain, "p_name": name}
    for key, value in (("p_plan", plan), ("p_locale", locale), ("p_timezone", timezone),
                       ("p_currency_code", currency_code)):
        if value is not None:
            args[key] = value
    named = ", ".join(f"{k} => %({k})s" for k in args)
    with borrow(db) as conn, _translated(subdomain), conn.transaction():
        row = conn.execute(f"select create_tenant({named})", args).fetchone()
        assert row is not None
        tenant = _read(conn, row[0])
    assert tenant is not None
    return tenant


def soft_delete_tenant(db: Db, tenant_id: UUID | str) -> Tenant:
    """Mark a store deleted (rows are kept); raise if unknown or already deleted."""
    with borrow(db) as conn, _translated(tenant=tenant_id), conn.transaction():
        conn.execute("select soft_delete_tenant(%s)", (str(tenant_id),))
        tenant = _read(conn, tenant_id)
    assert tenant is not None
    return tenant


def get_tenant(db: Db, *, id: UUID | str | None = None, subdomain: str | None = None
               ) -> Tenant | None:
    """Find a live or deleted tenant by id, or a live one by subdomain; None if none."""
    if (id is None) == (subdomain is None):
        raise TypeError("get_tenant() takes exactly one of id= or subdomain=")
    with borrow(db) as conn, conn.transaction():
        if subdomain is not None:
            # resolve_store_id() maps a request host (custom domains first,
            # then "<subdomain>.<anything>"): keep only an exact subdomain match.
            row = conn.execute("select resolve_store_id(%s)", (subdomain,)).fetchone()
            if row is None or row[0] is None:
                return None
            tenant = _read(conn, row[0])
            if tenant is None or tenant.subdomain != subdomain.strip().lower():
                return None
            return tenant
        return _read(conn, id)  # type: ignore[arg-type]
