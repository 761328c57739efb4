"""What the library returns: small frozen values with a JSON form for the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._plan import Entry

if TYPE_CHECKING:
    from ..tenancy._check import TenancyReport


@dataclass(frozen=True)
class AppliedFile:
    """A file a run applied, and how long it took."""

    file: str
    duration_ms: int
    statements: int


@dataclass(frozen=True)
class MigrateResult:
    """The outcome of :func:`storedb.migrate`.

    ``up_to_date`` is true when nothing had to be done; ``pending`` lists what
    a dry run would apply (and ``sql`` the exact SQL, when asked for).
    """

    applied: tuple[AppliedFile, ...] = ()
    pending: tuple[str, ...] = ()
    up_to_date: bool = False
    dry_run: bool = False
    sql: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "applied": [{"file": a.file, "duration_ms": a.duration_ms,
                         "statements": a.statements} for a in self.applied],
            "pending": list(self.pending),
            "up_to_date": self.up_to_date,
            "dry_run": self.dry_run,
            **({"sql": self.sql} if self.sql is not None else {}),
        }


def entry_json(e: Entry) -> dict[str, Any]:
    a = e.applied
    out: dict[str, Any] = {
        "file": e.file,
        "state": e.state,
        "checksum": e.checksum,
        "applied_at": a.applied_at.isoformat() if a else None,
        "applied_by": a.applied_by if a else None,
        "duration_ms": a.duration_ms if a else None,
        "kind": a.kind if a else None,
    }
    if a and a.accepted_at:
        out["accepted"] = {"at": a.accepted_at.isoformat(), "by": a.accepted_by,
                           "reason": a.accepted_reason}
    return out


@dataclass(frozen=True)
class StatusResult:
    """Every file's state, in apply order, then files missing from disk."""

    entries: tuple[Entry, ...] = field(default_factory=tuple)
    #: The table that holds this database's history (None: nothing applied yet).
    history: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"migrations": [entry_json(e) for e in self.entries], "history": self.history}


@dataclass(frozen=True)
class CheckResult:
    """``ok`` when every file is applied and unchanged; otherwise what is not."""

    ok: bool
    problems: tuple[Entry, ...]
    out_of_order: tuple[str, ...] = ()
    #: With ``check(tenancy=True)``: the isolation audit (``ok`` includes it).
    tenancy: TenancyReport | None = None
    #: Why the files were not compared (the application's role may not read the history).
    files_skipped: str | None = None

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"ok": self.ok,
                                   "problems": [entry_json(e) for e in self.problems],
                                   "out_of_order": list(self.out_of_order)}
        if self.files_skipped:
            payload["files_skipped"] = self.files_skipped
        if self.tenancy is not None:
            payload["tenancy"] = self.tenancy.to_json()
        return payload
