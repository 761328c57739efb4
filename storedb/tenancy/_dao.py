"""The tenant DAO: creating, finding and soft-deleting stores.

The rules live in SQL (``create_tenant``, ``soft_delete_tenant`` and
``resolve_store_id`` in infra/db); this module calls them with parameters
only and turns their errors, recognised by constraint name and SQLSTATE,
into :class:`storedb.TenantError` subclasses with advice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from .._connection import usable
from ..errors import InvalidSubdomain, SubdomainTaken, TenantAlreadyDeleted, TenantNotFound
from ._isolation import explained, require_isolation
from ._scope import Db, borrow


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
def translated(subdomain: str | None = None, tenant: object = None) -> Iterator[None]:
    import psycopg

    try:
        with explained():  # a row level security refusal, named with its fix
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


# Reading a tenant row needs its own store set (RLS shows a store only itself) and,
# inside the caller's transaction, the caller's store put back afterwards.  The
# previous value is parked in a second setting on the server, so no statement
# needs an answer from another and all of them travel in one message.
_PARK_AND_SET = ("select set_config('storedb.saved_store_id', "
                 "coalesce(current_setting('app.current_store_id', true), ''), true), "
                 "set_current_store_id({id})")
_SET = "select set_current_store_id({id})"
_READ = f"select {_COLUMNS} from tenants where id = get_current_store_id()"
_RESTORE = ("select set_config('app.current_store_id', "
            "current_setting('storedb.saved_store_id'), true)")


Call = tuple[str, Any]  # SQL and its values


def trip_message(mogrify: Callable[[str, Any], str], nested: bool, call: Call, store: Call
                 ) -> tuple[str, int]:
    """The one message of a DAO call, and the index of the result holding the tenant.

    ``call`` runs first, then the tenant ``store`` is read; the named steps
    travel as one simple-protocol message with the values quoted by
    ``mogrify``, inside a transaction of their own (or a savepoint when the
    caller has a transaction open).  Shared by the sync and async DAO.
    """
    steps = {
        "open": "savepoint storedb_dao" if nested else "begin",
        "call": mogrify(*call),
        # in our own transaction the setting ends with it; in the caller's, park theirs
        "set": mogrify((_PARK_AND_SET if nested else _SET).format(id=store[0]), store[1]),
        "read": _READ,
        **({"restore": _RESTORE} if nested else {}),
        "close": "release savepoint storedb_dao" if nested else "commit",
    }
    return ";\n".join(steps.values()), list(steps).index("read")


#: What undoes a failed nested trip, leaving the caller's transaction usable.
UNDO_NESTED = "rollback to savepoint storedb_dao; release savepoint storedb_dao"


def _one_trip(conn: Any, call: Call, store: Call) -> Tenant | None:
    """Run ``call``, then read the tenant ``store``, in one round trip (:func:`trip_message`).

    One wait instead of six keeps the DAO close to what the database itself
    can do (bench/bench_tenant_dao.py), and rows are read as tuples whatever
    row factory the connection or pool was given.
    """
    import psycopg
    from psycopg import ClientCursor
    from psycopg.pq import TransactionStatus
    from psycopg.rows import tuple_row

    nested = conn.info.transaction_status != TransactionStatus.IDLE
    autocommit = conn.autocommit
    with ClientCursor(conn, row_factory=tuple_row) as cur:
        message, read = trip_message(cur.mogrify, nested, call, store)
        try:
            if not nested:
                conn.autocommit = True  # our own begin/commit: no extra BEGIN from psycopg
            cur.execute(message)
            for _ in range(read):  # skip to the read's result
                cur.nextset()
            row = cur.fetchone()
        except BaseException:
            if usable(conn):
                if nested:
                    with contextlib.suppress(psycopg.Error):
                        conn.execute(UNDO_NESTED)
                elif conn.info.transaction_status != TransactionStatus.IDLE:
                    conn.execute("rollback")
            raise
        finally:
            if not nested and not conn.closed:
                conn.autocommit = autocommit
    return Tenant(*row) if row else None


def create_call(subdomain: str, name: str, plan: str | None = None, locale: str | None = None,
                timezone: str | None = None, currency_code: str | None = None
                ) -> tuple[Call, Call]:
    """create_tenant's call and the store to read back: the id is drawn here."""
    tenant_id = uuid4()
    args: dict[str, Any] = {"p_subdomain": subdomain, "p_name": name, "p_id": tenant_id}
    for key, value in (("p_plan", plan), ("p_locale", locale), ("p_timezone", timezone),
                       ("p_currency_code", currency_code)):
        if value is not None:
            args[key] = value
    named = ", ".join(f"{k} => %({k})s" for k in args)
    return (f"select create_tenant({named})", args), ("%s", (tenant_id,))


def soft_delete_call(tenant_id: UUID | str) -> tuple[Call, Call]:
    key = str(UUID(str(tenant_id)))  # a malformed id fails here, not in SQL
    return ("select soft_delete_tenant(%s)", (key,)), ("%s", (key,))


def get_call(id: UUID | str | None, subdomain: str | None) -> tuple[Call, Call]:
    if (id is None) == (subdomain is None):
        raise TypeError("get_tenant() takes exactly one of id= or subdomain=")
    if subdomain is None:
        return ("select 1", ()), ("%s", (str(UUID(str(id))),))
    return ("select 1", ()), ("resolve_store_id(%s)", (subdomain,))


def get_result(tenant: Tenant | None, subdomain: str | None) -> Tenant | None:
    """resolve_store_id() maps a request host (custom domains first, then
    "<subdomain>.<anything>"): by subdomain, keep only an exact match."""
    if subdomain is None or tenant is None or tenant.subdomain == subdomain.strip().lower():
        return tenant
    return None


def create_tenant(db: Db, *, subdomain: str, name: str, plan: str | None = None,
                  locale: str | None = None, timezone: str | None = None,
                  currency_code: str | None = None, allow_bypass: bool = False) -> Tenant:
    """Create a store with its config and settings in one transaction and one round trip.

    The id is drawn here, so the new row can be read back in the same message.
    Like every DAO call it refuses a role that bypasses row level security
    unless ``allow_bypass=True`` (see :func:`storedb.tenant_scope`).
    """
    call, store = create_call(subdomain, name, plan, locale, timezone, currency_code)
    with borrow(db) as conn, translated(subdomain):
        require_isolation(conn, allow_bypass=allow_bypass)
        tenant = _one_trip(conn, call, store)
    assert tenant is not None
    return tenant


def soft_delete_tenant(db: Db, tenant_id: UUID | str, *, allow_bypass: bool = False) -> Tenant:
    """Mark a store deleted (rows are kept); raise if unknown or already deleted."""
    call, store = soft_delete_call(tenant_id)
    with borrow(db) as conn, translated(tenant=tenant_id):
        require_isolation(conn, allow_bypass=allow_bypass)
        tenant = _one_trip(conn, call, store)
    assert tenant is not None
    return tenant


def get_tenant(db: Db, *, id: UUID | str | None = None, subdomain: str | None = None,
               allow_bypass: bool = False) -> Tenant | None:
    """Find a live or deleted tenant by id, or a live one by subdomain; None if none."""
    call, store = get_call(id, subdomain)
    with borrow(db) as conn:
        require_isolation(conn, allow_bypass=allow_bypass)
        return get_result(_one_trip(conn, call, store), subdomain)
