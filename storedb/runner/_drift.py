"""Acting on drift: see what changed in an applied file, and accept deliberate edits.

Accepting records the new checksum with who, when and why; it never runs
anything.  Real schema changes belong in a new migration.
"""

from __future__ import annotations

import difflib

from .._connection import Database, resolve, session
from ..errors import HistoryError, UsageError
from . import _history as history
from ._files import Directory, file_name, load_directory, resolve_directory
from ._lock import runner_lock


def _file(given: str, directory: Directory) -> tuple[str, str, str]:
    """The file's name in the history, its text and its checksum."""
    root = resolve_directory(directory)
    name = file_name(given, root)
    files = {f.name: f for f in load_directory(root)}
    if name not in files:
        known = ", ".join(n for n in files) or "none"
        raise UsageError(f"{name}: no such migration file. Name it as 'storedb status' shows "
                         "it (e.g. migrations/001_add_products_table.sql) or give its path. "
                         f"Known: {known}")
    return name, files[name].text, files[name].checksum


def diff(db: Database | None, file: str, *, directory: Directory = None, wait: float = 0.0
         ) -> str:
    """Unified diff from the SQL as applied (history) to the file on disk; '' when equal."""
    file, on_disk, _ = _file(file, directory)
    with session(resolve(db), wait=wait) as conn:
        applied = history.sql_as_applied(conn, file)
    if applied is None:
        raise HistoryError(f"{file} has not been applied to this database, so there is nothing "
                           "to compare with: 'storedb status' shows it as pending.")
    return "".join(difflib.unified_diff(
        applied.splitlines(keepends=True), on_disk.splitlines(keepends=True),
        fromfile=f"{file} (as applied)", tofile=f"{file} (on disk)"))


def accept(db: Database | None, file: str, *, reason: str, directory: Directory = None,
           wait: float = 0.0, lock_timeout: float = 60.0) -> str | None:
    """Record the file's current checksum as expected; return it (None: nothing to accept)."""
    if not reason.strip():
        raise UsageError("--reason is required: say why the edit is safe (e.g. 'comment typo').")
    file, _, new_checksum = _file(file, directory)
    with session(resolve(db), wait=wait) as conn, runner_lock(conn, timeout=lock_timeout):
        expected = history.checksum_of(conn, file)
        if expected is None:
            raise HistoryError(f"{file} has not been applied here; only applied files can be "
                               "accepted. Run 'storedb migrate' to apply it.")
        if expected == new_checksum:
            return None
        history.ensure(conn)  # a history still in public moves first
        history.accept(conn, file, new_checksum, reason)
    return new_checksum
