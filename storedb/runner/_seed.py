"""Loading development data from ``seed/``, only into development databases.

Seed files are idempotent SQL, applied in name order, each in a transaction.
A database counts as development when its history says so: the local
cluster and ``seed --force`` record it; anything else is refused, so demo
stores never land in production by accident.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .._connection import Database, resolve, session
from ..errors import HistoryError, SeedRefused, UsageError
from . import _history as history
from ._apply import failure
from ._files import (
    Directory,
    MigrationFile,
    check_utf8,
    checksums,
    directory_digest,
    normalise,
    resolve_directory,
)
from ._lock import runner_lock
from ._statements import split

_ENVIRONMENT = ("select detail from public.schema_migrations_log where event = 'environment' "
                "order by id desc limit 1")


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
    """Apply every ``seed/*.sql``; return their names."""
    import psycopg

    folder = resolve_directory(directory) / "seed"
    files = sorted(folder.glob("*.sql")) if folder.is_dir() else []
    if not files:
        raise UsageError(f"no seed files in {folder}")
    target = resolve(db)
    root = resolve_directory(directory)
    with session(target, wait=wait) as conn, runner_lock(conn, timeout=lock_timeout):
        if history.history_digest(conn) != directory_digest(checksums(root)):
            raise HistoryError("the database is not up to date with the SQL files (see "
                               "'storedb status'): run 'storedb migrate' first, then seed.")
        row = conn.execute(_ENVIRONMENT).fetchone()
        environment = row[0] if row else None
        if environment != "development" and not force:
            raise SeedRefused(
                "refusing to load development data: this database's history does not mark it "
                f"as a development database (environment: {environment or 'not recorded'}). "
                "If it is one, run 'storedb seed --force' once; it is then marked development.")
        parsed = [(f, split(f)) for f in map(_as_file, files)]  # all checked before any runs
        for file, statements in parsed:
            done = 0
            try:
                with conn.transaction():
                    for stmt in statements:
                        conn.execute(stmt.text)
                        done += 1
                    conn.execute(history.LOG, ("seed", file.name, file.checksum, "applied"))
            except psycopg.Error as exc:
                raise failure(conn, file, statements, done, exc, committed=0) from exc
        if environment != "development":  # marked only once the data is in
            mark_environment(conn, "development")
    return [f.name for f, _ in parsed]


def _as_file(path: Path) -> MigrationFile:
    """A seed file in the runner's terms, so errors point at FILE:LINE:COL the same way."""
    name = f"seed/{path.name}"
    try:
        data = normalise(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{name}: cannot read it: {exc.strerror}") from None
    check_utf8(name, data)
    return MigrationFile(name=name, folder="seed", number=0, path=path, data=data,
                         checksum=hashlib.sha256(data).hexdigest())
