"""Loading development data from ``seed/``, only into development databases.

Seed files are idempotent SQL, applied in name order, each in a transaction.
A database counts as development when its history says so: the local
cluster and ``seed --force`` record it; anything else is refused, so demo
stores never land in production by accident.
"""

from __future__ import annotations

from . import history
from .connection import Database, resolve, session
from .errors import SeedRefused, UsageError
from .files import resolve_directory
from .lock import runner_lock
from .runner import Directory

_ENVIRONMENT = ("select detail from public.schema_migrations_log where event = 'environment' "
                "order by id desc limit 1")


def mark_environment(conn: object, name: str) -> None:
    """Record which kind of database this is (development, staging, production)."""
    conn.execute(history.LOG, ("environment", None, None, name))  # type: ignore[attr-defined]


def seed(db: Database | None = None, *, directory: Directory = None, force: bool = False,
         wait: float = 0.0, lock_timeout: float = 60.0) -> list[str]:
    """Apply every ``seed/*.sql``; return their names."""
    folder = resolve_directory(directory) / "seed"
    files = sorted(folder.glob("*.sql")) if folder.is_dir() else []
    if not files:
        raise UsageError(f"no seed files in {folder}")
    target = resolve(db)
    with session(target, wait=wait) as conn, runner_lock(conn, timeout=lock_timeout):
        history.ensure(conn)
        row = conn.execute(_ENVIRONMENT).fetchone()
        environment = row[0] if row else None
        if environment != "development" and not force:
            raise SeedRefused(
                "refusing to load development data: this database's history does not mark it "
                f"as a development database (environment: {environment or 'not recorded'}). "
                "If it is one, run 'storedb seed --force' once; it is then marked development.")
        if environment != "development":
            mark_environment(conn, "development")
        for path in files:
            with conn.transaction():
                conn.execute(path.read_text(encoding="utf-8"))
            conn.execute(history.LOG, ("seed", f"seed/{path.name}", None, "applied"))
    return [f"seed/{p.name}" for p in files]
