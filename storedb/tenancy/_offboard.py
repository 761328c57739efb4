"""Offboarding: delete a soft-deleted store in short, resumable transactions.

One ``DELETE FROM tenants`` removes a store through its cascades in a single
transaction: for a large store that is minutes of locks, gigabytes of WAL in
one piece and vacuum held back on the whole cluster.  The database does the
work in batches (``offboard_tenant_step()``, migration 015); this module calls
it one batch per transaction and sizes the batches so that each transaction
stays near a time budget.  Stopping at any point loses nothing: running it
again resumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from .._connection import Database, resolve, session
from ..errors import TenantError, TenantNotFound

#: Batch sizes stay within these bounds whatever the time budget says.
MIN_BATCH, MAX_BATCH = 100, 100_000


@dataclass(frozen=True)
class OffboardStep:
    """One committed batch: what it deleted and how long its transaction took."""

    table: str
    rows: int
    total: int
    seconds: float
    batch_rows: int
    finished: bool


@dataclass(frozen=True)
class OffboardResult:
    tenant_id: UUID
    rows: int
    batches: int
    seconds: float
    longest_batch_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"tenant_id": str(self.tenant_id), "rows": self.rows, "batches": self.batches,
                "seconds": round(self.seconds, 3),
                "longest_batch_seconds": round(self.longest_batch_seconds, 3)}


def next_batch(rows: int, seconds: float, budget: float) -> int:
    """The next batch size: aim each transaction at about half the time budget.

    Rows of different tables cost different amounts (an order cascades to
    nothing by then, an audit row is cheap), so the size follows the last
    batch's pace instead of being fixed.
    """
    if seconds <= 0:
        return min(MAX_BATCH, rows * 2)
    wanted = int(rows * (budget / 2) / seconds)
    return max(MIN_BATCH, min(MAX_BATCH, wanted, rows * 4))


def _has_rows(conn: Any, table: str, key: UUID) -> bool:
    """Whether the store still has rows in ``table`` (one index probe: keys lead with store_id).

    The owner is subject to FORCE RLS, so the store is set for this transaction first, as
    offboard_tenant_step() does.
    """
    from psycopg import sql

    if table == "tenants":
        return True
    with conn.transaction():
        conn.execute("select set_config('app.current_store_id', %s, true)", (str(key),))
        row = conn.execute(sql.SQL("select exists (select from public.{} where store_id = %s)")
                           .format(sql.Identifier(table)), (key,)).fetchone()
    return bool(row and row[0])


def offboard_tenant(db: Database | None, tenant_id: UUID | str, *, max_seconds: float = 1.0,
                    batch_rows: int = 1000, wait: float = 0.0,
                    progress: Callable[[OffboardStep], None] | None = None) -> OffboardResult:
    """Delete a soft-deleted tenant batch by batch, each batch its own transaction.

    Run as the schema owner (``offboard_tenant_step()`` is granted to nobody
    else).  Raises :class:`TenantNotFound` for an unknown id and
    :class:`TenantError` for a live one (soft-delete it first).
    """
    import psycopg

    key = UUID(str(tenant_id))
    total = batches = 0
    longest = 0.0
    started = time.perf_counter()
    size = first = max(MIN_BATCH, min(MAX_BATCH, batch_rows))
    with session(resolve(db), wait=wait) as conn:
        while True:
            t = time.perf_counter()
            try:
                row = conn.execute("select table_name, rows_deleted, finished "
                                   "from offboard_tenant_step(%s, %s)", (key, size)).fetchone()
            except psycopg.errors.NoDataFound as exc:
                raise TenantNotFound(f"tenant {key} not found: check the id") from exc
            except psycopg.errors.ObjectNotInPrerequisiteState as exc:
                raise TenantError(f"tenant {key} is live: soft-delete it first "
                                  f"(storedb.soft_delete_tenant, or select "
                                  f"soft_delete_tenant('{key}');), then offboard it") from exc
            except psycopg.errors.UndefinedFunction as exc:
                raise TenantError("offboard_tenant_step() is missing: migrate the database "
                                  "(migration 015) first") from exc
            seconds = time.perf_counter() - t
            assert row is not None
            table, rows, finished = str(row[0]), int(row[1]), bool(row[2])
            total += rows
            batches += 1
            longest = max(longest, seconds)
            if progress is not None:
                progress(OffboardStep(table, rows, total, seconds, size, finished))
            if finished:
                break
            # A full batch shows this table's pace for its next one -- if the table has rows
            # left.  Once it is empty the next batch comes from the next table, whose rows may
            # cost far more (an order checks its line items; an audit row is cheap): start
            # small again.  (A batch that took the table's last rows may well be full.)
            if rows == size and _has_rows(conn, table, key):
                size = next_batch(size, seconds, max_seconds)
            else:
                size = first
    return OffboardResult(key, total, batches, time.perf_counter() - started, longest)
