"""storedb for asyncio applications: the same API as coroutines.

``migrate``, ``status``, ``check``, ``create_tenant``, ``soft_delete_tenant``
and ``get_tenant`` are coroutines and ``tenant_scope`` an async context
manager; each takes a psycopg ``AsyncConnection``, an ``AsyncConnectionPool``
or a DSN, and has the sync function's semantics, errors and results.

Nothing is written twice: the SQL, the plan and the messages are the sync
modules'.  ``_run``: the up-to-date check (the start-up hot path) runs on the
async connection itself; when there is work, the sync runner runs in a worker
thread on a connection of its own, and cancelling the task cancels the
statement on the server.  ``_tenancy``: the DAO and the scope send the same
one-message trips as the sync ones, built and read by the same functions.
"""

from __future__ import annotations

from ._run import check, migrate, status
from ._tenancy import create_tenant, get_tenant, soft_delete_tenant, tenant_scope

__all__ = ["check", "create_tenant", "get_tenant", "migrate", "soft_delete_tenant", "status",
           "tenant_scope"]
