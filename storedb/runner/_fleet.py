"""Migrating many databases at once: shards, regions, per-customer databases.

Each database is migrated independently on its own thread (the work is I/O
bound); one failing does not stop the others, and the result says which did.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from .._secrets import redact
from ..errors import Error
from ._results import MigrateResult
from ._run import migrate

#: The database a fleet worker is migrating, so its log lines can say which.
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("storedb_db", default=None)


class _Label(logging.Filter):
    """Prefix log lines from a fleet worker with its (redacted) DSN."""

    def filter(self, record: logging.LogRecord) -> bool:
        label = _current.get()
        if label and not getattr(record, "storedb_labelled", False):
            record.msg = f"{label.replace('%', '%%')}: {record.msg}"
            record.storedb_labelled = True
        return True


@dataclass(frozen=True)
class FleetItem:
    """One database's outcome; ``dsn`` has its password hidden."""

    dsn: str
    result: MigrateResult | None
    error: Error | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {"dsn": self.dsn, "ok": self.ok, "seconds": round(self.seconds, 3),
                "result": self.result.to_json() if self.result else None,
                "error": self.error.to_json() if self.error else None}


@dataclass(frozen=True)
class FleetResult:
    items: tuple[FleetItem, ...]

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.items)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "databases": [i.to_json() for i in self.items]}


def migrate_many(dsns: Sequence[str], *, jobs: int = 4,
                 on_done: Callable[[FleetItem], None] | None = None, **options: Any
                 ) -> FleetResult:
    """Migrate every DSN with up to ``jobs`` at a time; ``options`` as for :func:`migrate`."""

    def one(dsn: str) -> FleetItem:
        started = time.perf_counter()
        _current.set(redact(dsn))
        try:
            result = migrate(dsn, **options)
            return FleetItem(redact(dsn), result, None, time.perf_counter() - started)
        except Error as exc:
            return FleetItem(redact(dsn), None, exc, time.perf_counter() - started)
        except Exception as exc:  # one database's surprise must not stop the fleet
            error = Error(f"unexpected {type(exc).__name__}: {redact(str(exc))}")
            return FleetItem(redact(dsn), None, error, time.perf_counter() - started)

    log = logging.getLogger("storedb")
    label = _Label()
    log.addFilter(label)
    done: dict[int, FleetItem] = {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(contextvars.copy_context().run, one, dsn): i
                       for i, dsn in enumerate(dsns)}
            for future in as_completed(futures):
                item = future.result()
                done[futures[future]] = item
                if on_done:
                    on_done(item)
    finally:
        log.removeFilter(label)
    return FleetResult(tuple(done[i] for i in range(len(dsns))))
