"""storedb: the database layer of a multi-tenant e-commerce platform.

Applications call :func:`migrate` at start-up (cheap when up to date: one
query) and use the tenant DAO; operators use the same functions through
``python -m storedb``.  Importing this package loads neither click nor the
local-cluster code, and psycopg only when a database is first touched; the
less used parts load on first use (PEP 562), so start-up pays for none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .baseline import baseline  # eager: a module of the same name must not shadow it
from .errors import (
    ConnectError,
    DriftError,
    Error,
    HistoryError,
    InvalidSubdomain,
    LocalClusterError,
    LockTimeout,
    MigrationFailed,
    MigrationFileError,
    SeedRefused,
    SubdomainTaken,
    TenantAlreadyDeleted,
    TenantError,
    TenantNotFound,
    UsageError,
)
from .results import AppliedFile, CheckResult, MigrateResult, StatusResult
from .runner import check, migrate, status
from .seed import seed  # eager, as baseline

if TYPE_CHECKING:
    from .drift import accept, diff
    from .fleet import FleetResult, migrate_many
    from .scope import tenant_scope
    from .tenancy import TenancyReport
    from .tenancy import audit as check_tenancy
    from .tenants import Tenant, create_tenant, get_tenant, soft_delete_tenant

__version__ = "0.1.0"

_LAZY = {
    "accept": ("drift", "accept"),
    "diff": ("drift", "diff"),
    "FleetResult": ("fleet", "FleetResult"),
    "migrate_many": ("fleet", "migrate_many"),
    "tenant_scope": ("scope", "tenant_scope"),
    "TenancyReport": ("tenancy", "TenancyReport"),
    "check_tenancy": ("tenancy", "audit"),
    "Tenant": ("tenants", "Tenant"),
    "create_tenant": ("tenants", "create_tenant"),
    "get_tenant": ("tenants", "get_tenant"),
    "soft_delete_tenant": ("tenants", "soft_delete_tenant"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'storedb' has no attribute {name!r}")


__all__ = [
    "AppliedFile",
    "CheckResult",
    "ConnectError",
    "DriftError",
    "Error",
    "FleetResult",
    "HistoryError",
    "InvalidSubdomain",
    "LocalClusterError",
    "LockTimeout",
    "MigrateResult",
    "MigrationFailed",
    "MigrationFileError",
    "SeedRefused",
    "StatusResult",
    "SubdomainTaken",
    "TenancyReport",
    "Tenant",
    "TenantAlreadyDeleted",
    "TenantError",
    "TenantNotFound",
    "UsageError",
    "accept",
    "baseline",
    "check",
    "check_tenancy",
    "create_tenant",
    "diff",
    "get_tenant",
    "migrate",
    "migrate_many",
    "seed",
    "soft_delete_tenant",
    "status",
    "tenant_scope",
]
