"""Migrating many databases at once: shards, regions, per-customer databases.

Each database is migrated independently on its own thread (the work is I/O
bound); one failing does not stop the others, and the result says which did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from .connection import redact
from .errors import Error
from .results import MigrateResult
from .runner import migrate


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
        try:
            result = migrate(dsn, **options)
            return FleetItem(redact(dsn), result, None, time.perf_counter() - started)
        except Error as exc:
            return FleetItem(redact(dsn), None, exc, time.perf_counter() - started)

    done: dict[str, FleetItem] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, dsn): i for i, dsn in enumerate(dsns)}
        for future in as_completed(futures):
            item = future.result()
            done[str(futures[future])] = item
            if on_done:
                on_done(item)
    return FleetResult(tuple(done[str(i)] for i in range(len(dsns))))
