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
from uuid import UUID, uuid4

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


# Reading a tenant row needs its own store set (RLS shows a store only itself) and
# the caller's store put back afterwards.  The previous value is parked in a
# second setting on the server, so the three statements need no answer from
# each other and travel in one pipeline.
_SET = ("select set_config('storedb.saved_store_id', "
        "coalesce(current_setting('app.current_store_id', true), ''), true), "
        "set_current_store_id(%s)")
_RESTORE = ("select set_config('app.current_store_id', "
            "current_setting('storedb.saved_store_id'), true)")


def _read_queued(conn: Any, tenant_id: UUID | str) -> Any:
    """Queue the read of one tenant row; returns the cursor that will hold it."""
    conn.execute(_SET, (str(tenant_id),))
    cur = conn.execute(f"select {_COLUMNS} from tenants where id = %s", (str(tenant_id),))
    conn.execute(_RESTORE)
    return cur


def _tenant(cur: Any) -> Tenant | None:
    row = cur.fetchone()
    return Tenant(*row) if row else None


def create_tenant(db: Db, *, subdomain: str, name: str, plan: str | None = None,
                  locale: str | None = None, timezone: str | None = None,
                  currency_code: str | None = None) -> Tenant:
    """Create a store with its config and settings in one transaction and one round trip.

    The id is drawn here, so the row can be read back in the same pipeline.
    """
    tenant_id = uuid4()
    args: dict[str, Any] = {"p_subdomain": subdomain, "p_name": name, "p_id": tenant_id}
    for key, value in (("p_plan", plan), ("p_locale", locale), ("p_timezone", timezone),
                       ("p_currency_code", currency_code)):
        if value is not None:
            args[key] = value
    named = ", ".join(f"{k} => %({k})s" for k in args)
    with borrow(db) as conn, _translated(subdomain), conn.pipeline(), conn.transaction():
        conn.execute(f"select create_tenant({named})", args)
        cur = _read_queued(conn, tenant_id)
    tenant = _tenant(cur)
    assert tenant is not None
    return tenant


def soft_delete_tenant(db: Db, tenant_id: UUID | str) -> Tenant:
    """Mark a store deleted (rows are kept); raise if unknown or already deleted."""
    with borrow(db) as conn, _translated(tenant=tenant_id), conn.pipeline(), \
            conn.transaction():
        conn.execute("select soft_delete_tenant(%s)", (str(tenant_id),))
        cur = _read_queued(conn, tenant_id)
    tenant = _tenant(cur)
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
            tenant = _tenant(_read_queued(conn, row[0]))
            if tenant is None or tenant.subdomain != subdomain.strip().lower():
                return None
            return tenant
        return _tenant(_read_queued(conn, id))  # type: ignore[arg-type]
