"""Every error storedb raises, rooted at :class:`Error`.

A user mistake must never end in a bare traceback, so each error carries a
message that names the file, the cause and the remedy, an exit code for the
CLI, and a JSON form for ``--json`` output.  psycopg errors are chained with
``from`` so the original is never lost.

::

    Error                       exit 1 unless noted
    ├── UsageError              exit 2: bad options, no such file or directory
    ├── MigrationFileError      a file cannot be used (name, encoding, empty, parse)
    ├── DriftError              applied files were edited, removed or sorted out of order
    ├── ConnectError            the server cannot be reached or refuses us
    ├── LockTimeout             another runner kept the migration lock too long
    ├── MigrationFailed         PostgreSQL rejected a statement of a file
    ├── HistoryError            history refuses the request (baseline on a used database, ...)
    ├── LocalClusterError       the local development cluster cannot be started
    ├── SeedRefused             seeding a database that is not for development
    ├── LintFailed              migrate --lint found errors in the pending files
    └── TenantError             the tenant DAO and tenant_scope
        ├── SubdomainTaken
        ├── InvalidSubdomain
        ├── TenantNotFound
        │   └── TenantAlreadyDeleted
        └── IsolationError      row level security would not apply (superuser, BYPASSRLS)
            └── RowSecurityViolation  a policy refused a row; names the policy and the fix
"""

from __future__ import annotations

from typing import Any


class Error(Exception):
    """Root of every storedb error; ``str(e)`` is the whole user-facing message."""

    exit_code = 1

    def to_json(self) -> dict[str, Any]:
        """The ``{"error": ...}`` payload printed by ``--json`` commands."""
        return {"type": type(self).__name__, "message": str(self)}


class UsageError(Error):
    """The command was called wrongly: an option, a path or a name is off."""

    exit_code = 2


class MigrationFileError(Error):
    """A file in the SQL directory cannot be used as it is; nothing was applied."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "file": self.file, "line": self.line, "column": self.column}


class DriftError(Error):
    """The database's history and the files on disk disagree; nothing was applied."""

    def __init__(self, message: str, *, files: list[str]) -> None:
        super().__init__(message)
        self.files = files

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "files": self.files}


class ConnectError(Error):
    """The server cannot be reached, or refused the connection."""


class LockTimeout(Error):
    """Another runner held the migration lock for longer than ``lock_timeout``."""


class HistoryError(Error):
    """The history table refuses the request (e.g. a baseline over existing history)."""


class LocalClusterError(Error):
    """The local development cluster under ``.storedb/`` could not be used."""


class SeedRefused(Error):
    """Development data would be loaded into a database not marked for development."""


class LintFailed(Error):
    """``migrate --lint`` found error findings in the pending files; nothing was applied."""

    def __init__(self, message: str, *, findings: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.findings = findings

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "findings": self.findings}


class MigrationFailed(Error):
    """PostgreSQL rejected a statement; the file's transaction was rolled back.

    The attributes locate the failure in the file (``line``/``column`` are
    1-based) and repeat PostgreSQL's own fields, so tools need not parse the
    message.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str,
        line: int,
        column: int,
        statement_index: int,
        statement_count: int,
        sqlstate: str | None,
        pg_message: str,
        detail: str | None = None,
        hint: str | None = None,
        context: str | None = None,
        committed_statements: int = 0,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column
        self.statement_index = statement_index
        self.statement_count = statement_count
        self.sqlstate = sqlstate
        self.pg_message = pg_message
        self.detail = detail
        self.hint = hint
        self.context = context
        self.committed_statements = committed_statements

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "statement": self.statement_index,
            "statements": self.statement_count,
            "sqlstate": self.sqlstate,
            "pg_message": self.pg_message,
            "detail": self.detail,
            "hint": self.hint,
            "context": self.context,
            "committed_statements": self.committed_statements,
        }


class TenantError(Error):
    """A tenant operation was refused by the database's own rules."""


class SubdomainTaken(TenantError):
    """Another live tenant already uses this subdomain."""


class InvalidSubdomain(TenantError):
    """The subdomain is not a DNS label, or is reserved."""


class TenantNotFound(TenantError):
    """No tenant has this id (or subdomain)."""


class TenantAlreadyDeleted(TenantNotFound):
    """The tenant exists but was soft-deleted already."""


class IsolationError(TenantError):
    """Row level security would not keep stores apart on this connection.

    Raised before anything runs when the session's role is a superuser or has
    BYPASSRLS (pass ``allow_bypass=True`` for admin tooling that means it).
    """


class RowSecurityViolation(IsolationError):
    """A row level security policy refused a row; the message says which and what to do."""

    def __init__(self, message: str, *, table: str, policy: str) -> None:
        super().__init__(message)
        self.table = table
        self.policy = policy

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "table": self.table, "policy": self.policy}
