"""Suppressions: ``-- storedb:lint-ignore RULE reason`` comments, and the baseline file.

A suppression is a comment between the previous statement and the one it
applies to (typically the line just above).  It names one or more rule ids
(comma-separated) and must give a reason: a suppression without one, or
naming a rule that does not exist, is itself a finding.

The *baseline* (``lint-baseline.txt`` in the SQL root) does the same for
files that are already applied: adding a comment to an applied file changes
its checksum, which the runner rightly treats as an edited file.  Each line
is ``FILE:LINE RULE reason``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..runner._files import MigrationFile
from ..runner._statements import Statement
from ._result import Finding, finding
from ._rules import RULES

MARKER = "storedb:lint-ignore"
BASELINE = "lint-baseline.txt"


@dataclass(frozen=True)
class Ignore:
    """Rules ignored for one statement of one file."""

    file: str
    statement: int
    rules: frozenset[str]


def _parse(body: str) -> tuple[list[str], str]:
    rest = body[len(MARKER):]
    parts = rest.split(None, 1)
    rules = [r for r in parts[0].split(",") if r] if parts else []
    return rules, (parts[1].strip() if len(parts) > 1 else "")


def _problems(rules: list[str], reason: str, where: tuple[str, int, int], what: str
              ) -> list[Finding]:
    file, line, column = where
    if not rules or not reason:
        return [finding("suppression-without-reason", file, line, column,
                        f"{what} without a {'rule id' if not rules else 'reason'}: say which "
                        "rule and why it is safe here")]
    return [finding("unknown-rule", file, line, column, f"{what} names unknown rule {r!r}")
            for r in rules if r not in RULES]


def comments(file: MigrationFile, statements: Sequence[Statement]
             ) -> tuple[list[Ignore], list[Finding]]:
    """The suppressions written in a file, and the findings about malformed ones."""
    text = file.text
    ignores: list[Ignore] = []
    problems: list[Finding] = []
    end = 0
    for stmt in statements:
        gap = text[end:stmt.offset]
        line = text.count("\n", 0, end) + 1
        for number, raw in enumerate(gap.split("\n"), start=line):
            stripped = raw.strip()
            if not stripped.startswith("--"):
                continue
            body = stripped[2:].strip()
            if not body.startswith(MARKER) or body[len(MARKER):][:1] not in ("", " ", "\t"):
                continue
            rules, reason = _parse(body)
            column = raw.index("--") + 1
            found = _problems(rules, reason, (file.name, number, column), MARKER)
            problems += found
            if not found:
                ignores.append(Ignore(file.name, stmt.index, frozenset(rules)))
        end = stmt.offset + len(stmt.text)
    return ignores, problems


def apply(findings: list[Finding], ignores: Iterable[Ignore]) -> tuple[list[Finding], int]:
    """Drop the findings a suppression covers; return the rest and how many were dropped."""
    covered = {(i.file, i.statement, rule) for i in ignores for rule in i.rules}
    kept = [f for f in findings if (f.file, f.statement, f.rule) not in covered]
    return kept, len(findings) - len(kept)


@dataclass(frozen=True)
class Baseline:
    """Accepted findings of already-applied files: (file, line, rule) -> reason."""

    entries: dict[tuple[str, int, str], str]
    problems: tuple[Finding, ...] = ()

    def apply(self, findings: list[Finding]) -> tuple[list[Finding], int]:
        kept = [f for f in findings if (f.file, f.line, f.rule) not in self.entries]
        return kept, len(findings) - len(kept)


def load_baseline(root: Path) -> Baseline:
    """Read ``root/lint-baseline.txt``; a missing file is an empty baseline."""
    path = root / BASELINE
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return Baseline({})
    entries: dict[tuple[str, int, str], str] = {}
    problems: list[Finding] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        where, _, at = parts[0].rpartition(":")
        rules = parts[1:2]
        reason = parts[2] if len(parts) > 2 else ""
        found = _problems(rules, reason, (BASELINE, number, 1), "baseline entry")
        if not found and not (where and at.isdigit()):
            found = [finding("suppression-without-reason", BASELINE, number, 1,
                             f"baseline entry {parts[0]!r} is not FILE:LINE")]
        problems += found
        if not found:
            entries[(where, int(at), rules[0])] = reason
    return Baseline(entries, tuple(problems))
