"""Keeping row level security from being silently off, and explaining it when it bites.

Two things make tenant isolation fail without a word:

* a session whose role bypasses row level security (a superuser, such as the
  ``postgres`` of a development cluster, or a role with BYPASSRLS): every
  policy is skipped and ``tenant_scope(store A)`` returns store B's rows too;
* a policy refusal surfacing as PostgreSQL's bare "new row violates row-level
  security policy", which names neither the store nor the remedy.

:func:`require_isolation` refuses the first (unless the caller opts in with
``allow_bypass=True``, for admin tooling); :func:`explained` turns the second
into :class:`storedb.RowSecurityViolation` with the rule and what to do.

The check costs nothing per call: PostgreSQL reports ``is_superuser`` to the
client on every role change (a ParameterStatus message), and BYPASSRLS, which
it does not report, is read once per connection and role and cached.
"""

from __future__ import annotations

import contextlib
import re
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import IsolationError, RowSecurityViolation

if TYPE_CHECKING:
    import psycopg

#: connection -> (backend pid, session user, role bypasses RLS); a pool reuses connections,
#: so the one query is paid once per pooled connection, not per call.
_bypass: weakref.WeakKeyDictionary[Any, tuple[int, str, bool]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()

_ROLE = "select rolbypassrls from pg_roles where rolname = current_user"

_ADVICE = ("connect the application as a login role that is a member of storedb_app (create one "
           "with 'storedb app-role NAME' or storedb.create_app_role(); for the local cluster "
           "'storedb local url --app' prints its DSN). Admin tooling that means to see every "
           "store passes allow_bypass=True.")


def require_isolation(conn: psycopg.Connection[Any], *, allow_bypass: bool = False) -> None:
    """Raise :class:`IsolationError` when ``conn``'s role skips row level security."""
    if allow_bypass:
        return
    key = refuse_superuser(conn)
    cached = cached_bypass(conn, key)
    if cached is None:
        from psycopg.pq import TransactionStatus
        from psycopg.rows import tuple_row

        idle = conn.info.transaction_status == TransactionStatus.IDLE
        with conn.cursor(row_factory=tuple_row) as cur:
            row = cur.execute(_ROLE).fetchone()
        if idle and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()  # leave no transaction behind that our query opened
        cached = remember(conn, key, bool(row and row[0]))
    refuse_bypassrls(key, cached)


def refuse_superuser(conn: Any) -> tuple[int, str]:
    """Raise for a superuser (free: reported by the server); the cache key of the role."""
    info = conn.info
    user = info.parameter_status("session_authorization") or ""
    if info.parameter_status("is_superuser") == "on":
        raise IsolationError(
            f"the connection's role ({user or 'this role'}) is a superuser, so row level "
            "security does not apply to it: every store's rows would be visible and writable "
            "inside tenant_scope. " + _ADVICE)
    return (info.backend_pid, user)


def cached_bypass(conn: Any, key: tuple[int, str]) -> tuple[int, str, bool] | None:
    """What is known of this connection's role, if it is still the same role."""
    with _lock:
        cached = _bypass.get(conn)
    return cached if cached is not None and cached[:2] == key else None


def remember(conn: Any, key: tuple[int, str], bypass: bool) -> tuple[int, str, bool]:
    cached = (*key, bypass)
    with _lock:
        _bypass[conn] = cached
    return cached


def refuse_bypassrls(key: tuple[int, str], cached: tuple[int, str, bool]) -> None:
    if cached[2]:
        raise IsolationError(
            f"the connection's role ({key[1] or 'this role'}) has BYPASSRLS, so row level "
            "security does not apply to it: every store's rows would be visible and writable "
            "inside tenant_scope. " + _ADVICE)


_POLICY = re.compile(r'row-level security policy(?: "(?P<policy>[^"]+)")?(?: \([^)]*\))? '
                     r'for table "(?P<table>[^"]+)"')


@contextlib.contextmanager
def explained(store: object = None) -> Iterator[None]:
    """Turn a row level security refusal into advice naming the rule and the store."""
    import psycopg

    try:
        yield
    except psycopg.errors.InsufficientPrivilege as exc:
        text = exc.diag.message_primary or str(exc)
        match = _POLICY.search(text)
        if match is None:
            raise
        table = match.group("table")
        policy = match.group("policy") or f"{table}_store_isolation"
        column = "id" if table == "tenants" else "store_id"
        where = f"the scope's store {store}" if store is not None else \
            "the store set with tenant_scope (none is set outside one)"
        raise RowSecurityViolation(
            f"{text}: policy {policy} lets a session read and write only rows whose {column} "
            f"is {where}. Inside tenant_scope leave {column} out of the INSERT (it defaults "
            f"to the scope's store) or set it to that store; to write another store's rows, "
            f"open tenant_scope for that store. Outside tenant_scope no store is set, so "
            f"every write to {table} is refused and every read is empty.",
            table=table, policy=policy) from exc
