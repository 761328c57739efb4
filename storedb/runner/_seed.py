"""Loading development data from ``seed/``, only into development databases.

Seed files are idempotent SQL, applied in name order, each in a transaction.
A database counts as development when its history says so: the local
cluster and ``seed --force`` record it; anything else is refused, so demo
stores never land in production by accident.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from .._connection import Database, resolve, session
from ..errors import HistoryError, SeedRefused, UsageError
from . import _history as history
from . import _session
from ._apply import apply_file
from ._files import (
    Directory,
    MigrationFile,
    checksums,
    directory_digest,
    load_file,
    resolve_directory,
)
from ._lock import runner_lock
from ._progress import parse_all


def mark_environment(conn: object, name: str) -> None:
    """Record which kind of database this is (development, staging, production)."""
    conn.execute(history.LOG, ("environment", None, None, name))  # type: ignore[attr-defined]


def mark_development(dsn: str) -> None:
    """Mark a database the CLI just created in the local cluster as development (seed allows)."""
    with session(dsn) as conn:
        history.ensure(conn)
        mark_environment(conn, "development")


def seed(db: Database | None = None, *, directory: Directory = None, force: bool = False,
         wait: float = 0.0, lock_timeout: float = 60.0) -> list[str]:
    """Apply every ``seed/*.sql``; return their names.

    Each file runs exactly as a migration does (its own text, one
    transaction, the session put back after it), with a log row instead of a
    history row.
    """
    root = resolve_directory(directory)
    files = _seed_files(root / "seed")
    target = resolve(db)
    with session(target, wait=wait) as conn, runner_lock(conn, timeout=lock_timeout):
        if history.history_digest(conn) != directory_digest(checksums(root)):
            raise HistoryError("the database is not up to date with the SQL files (see "
                               "'storedb status'): run 'storedb migrate' first, then seed.")
        history.ensure(conn)
        row = conn.execute(history.ENVIRONMENT).fetchone()
        environment = row[0] if row else None
        if environment != "development" and not force:
            raise SeedRefused(
                "refusing to load development data: this database's history does not mark it "
                f"as a development database (environment: {environment or 'not recorded'}). "
                "If it is one, run 'storedb seed --force' once; it is then marked development.")
        parsed = parse_all(files)  # all checked before any runs
        snapshot = _session.capture(conn)
        restore = _session.restore(snapshot)
        for i, (file, statements) in enumerate(parsed):
            apply_file(conn, file, statements, restore=restore, statement_lock_timeout=60.0,
                       durable=i == len(parsed) - 1, record=partial(_logged, file))
        if environment != "development":  # marked only once the data is in
            mark_environment(conn, "development")
    return [f.name for f, _ in parsed]


def _logged(file: MigrationFile, _ms: int | None) -> str:
    return history.log_entry("seed", file.name, file.checksum, "applied")


def _seed_files(folder: Path) -> list[MigrationFile]:
    """The seed files in name order, read as migrations are (errors point at FILE:LINE:COL)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        names = []
    odd = [n for n in names if n.lower().endswith(".sql") and not n.endswith(".sql")]
    if odd:
        raise UsageError(f"seed/{odd[0]}: storedb reads only names ending in lower-case '.sql': "
                         "rename it.")
    files = [load_file(f"seed/{n}", "seed", 0, str(folder / n)) for n in names
             if n.endswith(".sql") and (folder / n).is_file()]
    if not files:
        raise UsageError(f"no seed files in {folder}")
    return files
