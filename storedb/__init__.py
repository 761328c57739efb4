"""storedb: the database layer of a multi-tenant e-commerce platform.

Applications call :func:`migrate` at start-up (cheap when up to date: one
query) and use the tenant DAO; operators use the same functions through
``python -m storedb``.  Importing this package loads neither click nor the
local-cluster code, and psycopg only when a database is first touched.
"""

from .baseline import baseline
from .drift import accept, diff
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
from .fleet import FleetResult, migrate_many
from .results import AppliedFile, CheckResult, MigrateResult, StatusResult
from .runner import check, migrate, status
from .scope import tenant_scope
from .tenants import Tenant, create_tenant, get_tenant, soft_delete_tenant

__version__ = "0.1.0"

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
    "Tenant",
    "TenantAlreadyDeleted",
    "TenantError",
    "TenantNotFound",
    "UsageError",
    "accept",
    "baseline",
    "check",
    "create_tenant",
    "diff",
    "get_tenant",
    "migrate",
    "migrate_many",
    "soft_delete_tenant",
    "status",
    "tenant_scope",
]
