"""What lint returns: findings located at FILE:LINE:COL, and the run's notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._rules import RULES, Severity


@dataclass(frozen=True)
class Lock:
    """One lock a measured statement took on an existing table."""

    relation: str
    mode: str
    rows: int
    blocks: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"relation": self.relation, "mode": self.mode, "rows": self.rows,
                "blocks": list(self.blocks)}


@dataclass(frozen=True)
class Measurement:
    """What running one statement (in a transaction rolled back) actually did."""

    ms: float
    locks: tuple[Lock, ...] = ()
    rewritten: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        """The largest row count among the tables it locked or rewrote: its ranking key."""
        return max((lock.rows for lock in self.locks), default=0)

    def to_json(self) -> dict[str, Any]:
        return {"ms": round(self.ms, 3), "rows": self.rows,
                "locks": [lock.to_json() for lock in self.locks],
                "rewritten": list(self.rewritten)}


@dataclass(frozen=True)
class Finding:
    """One problem: where, which rule, what is wrong, and the safe rewrite."""

    file: str
    line: int
    column: int
    rule: str
    message: str
    fix: str
    severity: Severity = "error"
    statement: int = field(default=0, compare=False)  # 1-based index in the file; 0: none
    measured: Measurement | None = field(default=None, compare=False)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "line": self.line, "column": self.column,
                               "rule": self.rule, "severity": self.severity,
                               "message": self.message, "fix": self.fix}
        if self.measured is not None:
            out["measured"] = self.measured.to_json()
        return out

    def __str__(self) -> str:
        return (f"{self.location}: {self.severity} {self.rule}: {self.message}\n"
                f"    fix: {self.fix}")


def finding(rule: str, file: str, line: int, column: int, message: str, fix: str | None = None,
            *, statement: int = 0, severity: Severity | None = None,
            measured: Measurement | None = None) -> Finding:
    """A finding of ``rule``, its severity and default fix taken from the rule table."""
    spec = RULES[rule]
    return Finding(file, line, column, rule, message, fix or spec.fix,
                   severity or spec.severity, statement, measured)


@dataclass(frozen=True)
class LintResult:
    """Every finding (ordered by file and position, or by impact when measured)."""

    findings: tuple[Finding, ...]
    files: tuple[str, ...]
    notes: tuple[str, ...] = ()
    suppressed: int = 0
    baselined: int = 0
    measured: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "findings": [f.to_json() for f in self.findings],
                "files": list(self.files), "notes": list(self.notes),
                "suppressed": self.suppressed, "baselined": self.baselined,
                "measured": self.measured}

    def summary(self) -> str:
        errors = len(self.errors)
        warnings = len(self.findings) - errors
        hidden = [f"{n} {what}" for n, what in ((self.suppressed, "suppressed"),
                                                 (self.baselined, "baselined")) if n]
        tail = f" ({', '.join(hidden)})" if hidden else ""
        if self.ok:
            return f"lint ok: {len(self.files)} file(s), no findings{tail}"
        return (f"{len(self.findings)} finding(s): {errors} error(s), {warnings} warning(s) in "
                f"{len(self.files)} file(s){tail}")
