"""storedb: the database layer of a multi-tenant e-commerce platform.

Three products share this package:

* :mod:`storedb.runner`, the migration runner: applications call
  :func:`migrate` at start-up (one query when up to date) and operators run
  the same functions as ``python -m storedb``;
* :mod:`storedb.tenancy`, the tenant layer: the DAO, ``tenant_scope`` and the
  isolation check;
* :mod:`storedb.lint`, the migration linter: static, tenancy and measured
  rules that catch a dangerous file before it runs.

Everything public is listed once, in ``_EXPORTS`` below: ``__all__`` and the
lazy loading (PEP 562) both follow from it, so ``import storedb`` loads
neither click, nor psycopg, nor the local-cluster code until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ConnectError,
    DriftError,
    Error,
    HistoryError,
    InvalidSubdomain,
    IsolationError,
    LintFailed,
    LocalClusterError,
    LockTimeout,
    MigrationFailed,
    MigrationFileError,
    RowSecurityViolation,
    SeedRefused,
    SubdomainTaken,
    TenantAlreadyDeleted,
    TenantError,
    TenantNotFound,
    UsageError,
)

if TYPE_CHECKING:  # the same names as _EXPORTS (tests/test_exports.py checks it)
    from .lint import Finding, LintResult, lint
    from .runner import (
        AppliedFile,
        CheckResult,
        FleetResult,
        MigrateResult,
        Progress,
        StatusResult,
        accept,
        baseline,
        check,
        diff,
        migrate,
        migrate_many,
        seed,
        status,
    )
    from .tenancy import (
        OffboardResult,
        OffboardStep,
        TenancyReport,
        Tenant,
        check_tenancy,
        create_app_role,
        create_tenant,
        get_tenant,
        offboard_tenant,
        soft_delete_tenant,
        tenant_scope,
    )

__version__ = "0.1.0"

#: Every public name and the sub-package it comes from ("errors" is loaded eagerly).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys([
        "ConnectError", "DriftError", "Error", "HistoryError", "InvalidSubdomain",
        "IsolationError", "LintFailed", "LocalClusterError", "LockTimeout", "MigrationFailed",
        "MigrationFileError", "RowSecurityViolation", "SeedRefused", "SubdomainTaken",
        "TenantAlreadyDeleted", "TenantError", "TenantNotFound", "UsageError"], "errors"),
    **dict.fromkeys([
        "AppliedFile", "CheckResult", "FleetResult", "MigrateResult", "Progress",
        "StatusResult",
        "accept", "baseline", "check", "diff", "migrate", "migrate_many", "seed",
        "status"], "runner"),
    **dict.fromkeys([
        "OffboardResult", "OffboardStep", "TenancyReport", "Tenant", "check_tenancy",
        "create_app_role", "create_tenant", "get_tenant", "offboard_tenant",
        "soft_delete_tenant", "tenant_scope"], "tenancy"),
    **dict.fromkeys(["Finding", "LintResult", "lint"], "lint"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    package = _EXPORTS.get(name)
    if package is None:
        raise AttributeError(f"module 'storedb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{package}", __name__), name)
    globals()[name] = value
    return value
