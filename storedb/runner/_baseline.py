"""Adopting a database built before storedb managed it.

``baseline --through FILE`` records FILE and every file before it as applied
without running them, so the next migrate starts after FILE.
"""

from __future__ import annotations

from .._connection import Database, resolve, session
from ..errors import HistoryError, UsageError
from . import _history as history
from ._files import Directory, file_name, load_directory, resolve_directory
from ._lock import runner_lock


def baseline(db: Database | None, *, through: str, directory: Directory = None,
             force: bool = False, wait: float = 0.0, lock_timeout: float = 60.0) -> list[str]:
    """Mark files up to ``through`` as applied; return their names."""
    root = resolve_directory(directory)
    files = load_directory(root)
    through = file_name(through, root)
    names = [f.name for f in files]
    if through not in names:
        raise UsageError(f"--through {through}: no such file. Known files: {', '.join(names)}")
    chosen = files[: names.index(through) + 1]
    with session(resolve(db), wait=wait) as conn, runner_lock(conn, timeout=lock_timeout):
        history.ensure(conn)
        existing = {a.filename for a in history.read(conn)}
        if existing and not force:
            raise HistoryError(
                f"this database already has a storedb history ({len(existing)} files applied); "
                "a baseline is for databases built before storedb. Use --force to record the "
                "remaining files as applied anyway.")
        recorded = []
        with conn.transaction():
            for f in chosen:
                if f.name in existing:
                    continue
                conn.execute(history.INSERT, (f.name, f.checksum, f.checksum, 0, f.text,
                                              "baseline"))
                recorded.append(f.name)
            conn.execute(history.LOG, ("baseline", through, None,
                                       f"recorded {len(recorded)} file(s) without running them"))
    return recorded
