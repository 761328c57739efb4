"""The tenant layer: many stores on shared tables, kept apart by the database.

``_dao``    create, read and soft-delete stores (one round trip a call)
``_scope``  ``tenant_scope``: a transaction whose row level security sees one store
``_app_role`` ``create_app_role`` and the connected-role part of ``check_tenancy``
``_isolation`` refusing roles that bypass RLS; explaining RLS refusals
``_offboard`` ``offboard_tenant``: delete a soft-deleted store in short, resumable
            transactions (migration 015)
``_check``  ``check_tenancy`` (``storedb check --tenancy``): audits the catalog for
            the isolation rules and names each violation with its fix

One vocabulary: *tenancy* is this layer, *check_tenancy* its audit, and
*audit* is kept for the schema's audit log of row changes.
"""

from __future__ import annotations

from ._app_role import create_app_role
from ._check import TenancyReport, Violation, check_tenancy
from ._dao import Tenant, create_tenant, get_tenant, soft_delete_tenant
from ._offboard import OffboardResult, OffboardStep, offboard_tenant
from ._scope import tenant_scope

__all__ = [
    "OffboardResult",
    "OffboardStep",
    "TenancyReport",
    "Tenant",
    "Violation",
    "check_tenancy",
    "create_app_role",
    "create_tenant",
    "get_tenant",
    "offboard_tenant",
    "soft_delete_tenant",
    "tenant_scope",
]
