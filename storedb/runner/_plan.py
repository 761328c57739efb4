"""Comparing files on disk with the database's history: the pure heart of storedb.

Given what is on disk and what the history table says, decide each file's
state and what a run would apply.  No database and no filesystem: plain
values in, plain values out, so every rule is testable in microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ..errors import DriftError, UsageError
from ._files import MigrationFile

State = Literal["applied", "pending", "changed", "missing"]


@dataclass(frozen=True)
class AppliedMigration:
    """One row of ``schema_migrations``."""

    filename: str
    checksum: str
    applied_at: datetime
    applied_by: str
    duration_ms: int
    kind: str = "applied"  # or "baseline": recorded without running
    accepted_at: datetime | None = None
    accepted_by: str | None = None
    accepted_reason: str | None = None


@dataclass(frozen=True)
class Entry:
    """A file's state: on disk, in history, or both."""

    file: str
    state: State
    checksum: str
    migration: MigrationFile | None
    applied: AppliedMigration | None


@dataclass(frozen=True)
class Plan:
    """Every file's state, and the files a run would apply, in order."""

    entries: tuple[Entry, ...]
    pending: tuple[MigrationFile, ...]
    out_of_order: tuple[str, ...]

    def by_state(self, state: State) -> list[Entry]:
        return [e for e in self.entries if e.state == state]

    @property
    def clean(self) -> bool:
        """Nothing pending, changed or missing: what ``check`` exits 0 on."""
        return all(e.state == "applied" for e in self.entries)


def make_plan(files: Sequence[MigrationFile], applied: Sequence[AppliedMigration],
              *, target: str | None = None) -> Plan:
    """State of every file, and what a run would apply (stopping after ``target``)."""
    history = {a.filename: a for a in applied}
    on_disk = {f.name for f in files}
    entries: list[Entry] = []
    pending: list[MigrationFile] = []
    last_applied = max((i for i, f in enumerate(files) if f.name in history), default=-1)
    out_of_order = []
    for i, f in enumerate(files):
        row = history.get(f.name)
        if row is None:
            entries.append(Entry(f.name, "pending", f.checksum, f, None))
            pending.append(f)
            if i < last_applied:
                out_of_order.append(f.name)
        elif row.checksum != f.checksum:
            entries.append(Entry(f.name, "changed", f.checksum, f, row))
        else:
            entries.append(Entry(f.name, "applied", f.checksum, f, row))
    for row in applied:
        if row.filename not in on_disk:
            entries.append(Entry(row.filename, "missing", row.checksum, None, row))
    if target is not None:
        names = [f.name for f in files]
        if target not in names:
            raise UsageError(f"--target {target}: no such file. Name it as status shows it "
                             f"(e.g. {names[-1] if names else 'migrations/001_name.sql'}) or "
                             "give its path (as storedb new prints it).")
        cut = names.index(target)
        pending = [f for f in pending if names.index(f.name) <= cut]
    return Plan(tuple(entries), tuple(pending), tuple(out_of_order))


def refuse_drift(plan: Plan, *, allow_out_of_order: bool = False) -> None:
    """Raise :class:`DriftError` naming every file that makes running unsafe."""
    problems: list[str] = []
    files: list[str] = []
    for e in plan.by_state("changed"):
        files.append(e.file)
        was = e.applied.checksum[:12] if e.applied else "?"
        problems.append(
            f"{e.file}: changed since it was applied (checksum {was} in history, "
            f"{e.checksum[:12]} on disk). Restore the file (git checkout), or if the edit is "
            f"deliberate and harmless (a comment), review 'storedb diff {e.file}' and record it "
            f"with 'storedb accept {e.file} --reason ...'. Put real changes in a new migration.")
    for e in plan.by_state("missing"):
        files.append(e.file)
        problems.append(
            f"{e.file}: applied but no longer on disk (renamed or deleted). Restore it under "
            "its old name; applied files are history and must stay.")
    if not allow_out_of_order:
        for name in plan.out_of_order:
            files.append(name)
            problems.append(
                f"{name}: pending, but sorts before files already applied (a merge of parallel"
                " branches?). Renumber it after the last applied file ('storedb new' picks the"
                " number), or run with --out-of-order if it does not depend on them.")
    if problems:
        raise DriftError("refusing to migrate (nothing was applied):\n  " + "\n  ".join(problems),
                         files=files)
