"""Measured mode: run each pending transactional file for real, then roll it back.

Static rules guess; this asks PostgreSQL.  Each file runs on the target
database inside one transaction that is always rolled back
(``force_rollback``), with a short ``lock_timeout`` so the measurement never
queues in front of the application.  After every statement it reads:

* ``pg_locks`` for this backend: the locks the statement added on tables that
  existed before the file, their mode, and which everyday statements that
  mode blocks;
* ``pg_class.relfilenode``: a changed one means the table was rewritten;
* the table's row count from the catalog (``reltuples``, or the statistics'
  live-tuple count before the first ANALYZE), so the same unsafe statement
  ranks higher on a 2 M-row table than on an empty one.

Nothing persists: the transaction (DDL included) is rolled back.  The only
non-transactional side effects are those PostgreSQL never rolls back:
sequence values drawn by ``nextval`` (gaps) and OID/xid consumption.  A
no-transaction file cannot be run this way (its statements would commit), so
it gets the static rules only, and the result says so.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._connection import Database, session
from ..runner._files import MigrationFile
from ..runner._statements import Statement
from ._result import Finding, Lock, Measurement, finding

if TYPE_CHECKING:
    import psycopg

#: Lock mode -> the everyday statements it makes wait (PostgreSQL's conflict table).
BLOCKS: dict[str, tuple[str, ...]] = {
    "AccessShareLock": (),
    "RowShareLock": (),
    "RowExclusiveLock": (),
    "ShareUpdateExclusiveLock": (),
    "ShareLock": ("INSERT", "UPDATE", "DELETE"),
    "ShareRowExclusiveLock": ("INSERT", "UPDATE", "DELETE"),
    "ExclusiveLock": ("SELECT FOR UPDATE/SHARE", "INSERT", "UPDATE", "DELETE"),
    "AccessExclusiveLock": ("SELECT", "SELECT FOR UPDATE/SHARE", "INSERT", "UPDATE",
                            "DELETE"),
}


def mode_name(mode: str) -> str:
    """``ShareRowExclusiveLock`` -> ``SHARE ROW EXCLUSIVE``."""
    words = "".join(f" {c}" if c.isupper() else c for c in mode.removesuffix("Lock")).split()
    return " ".join(words).upper()


#: A blocking lock is an error when the statement took at least this long on a
#: table with rows (its work grows with the table: a scan, a build); a brief one
#: (a catalog-only change such as adding a nullable column) is a warning.
SLOW_MS = 20.0

_TABLES = """
select c.oid, format('%I.%I', n.nspname, c.relname), c.relfilenode,
       case when c.reltuples >= 0 then c.reltuples::bigint
            else coalesce(s.n_live_tup, 0) end
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_stat_user_tables s on s.relid = c.oid
where c.relkind in ('r', 'p', 'm') and n.nspname <> 'information_schema'
  and n.nspname !~ '^pg_'
"""

_STATE = """
select 'lock', l.relation::oid, l.mode from pg_locks l
where l.pid = pg_backend_pid() and l.locktype = 'relation' and l.granted
  and l.relation = any(%(oids)s)
union all
select 'file', c.oid, c.relfilenode::text from pg_class c where c.oid = any(%(oids)s)
"""


@dataclasses.dataclass
class _Tables:
    names: dict[int, str]
    rows: dict[int, int]
    files: dict[int, str]
    held: set[tuple[int, str]]


def measure_files(db: Database, parsed: Sequence[tuple[MigrationFile, list[Statement]]],
                  findings: list[Finding], *, wait: float, lock_timeout: float,
                  statement_timeout: float) -> tuple[list[Finding], list[str]]:
    """Measure every transactional file; attach measurements to the static findings."""
    notes: list[str] = []
    measured: dict[tuple[str, int], Measurement] = {}
    extra: list[Finding] = []
    done: list[list[Statement]] = []  # earlier files, replayed when a file depends on them
    with session(db, wait=wait) as conn:
        for file, statements in parsed:
            if not file.transactional:
                notes.append(f"{file.name}: no-transaction file, static rules only (measured "
                             "mode would commit its statements)")
                continue
            result = _run(conn, file, statements, [], lock_timeout, statement_timeout)
            if result[2] is not None and done and "lock timeout" not in result[2].message:
                retry = _run(conn, file, statements, done, lock_timeout, statement_timeout)
                if retry[2] is None:
                    notes.append(f"{file.name}: measured after replaying the earlier pending "
                                 "file(s) it depends on; locks they took already are not "
                                 "repeated")
                    result = retry
            for index, measurement in result[0].items():
                measured[(file.name, index)] = measurement
            extra += result[1]
            if result[2] is not None:
                extra.append(result[2])
            done.append(statements)
    out = [dataclasses.replace(f, measured=measured.get((f.file, f.statement)))
           for f in findings]
    return out + extra, notes


def _run(conn: psycopg.Connection[Any], file: MigrationFile, statements: list[Statement],
         context: list[list[Statement]], lock_timeout: float, statement_timeout: float
         ) -> tuple[dict[int, Measurement], list[Finding], Finding | None]:
    """One file in a transaction that is always rolled back: measurements, findings, failure."""
    import psycopg

    measured: dict[int, Measurement] = {}
    found: list[Finding] = []
    failure: Finding | None = None
    with conn.transaction(force_rollback=True):
        conn.execute(f"set local lock_timeout = {max(1, int(lock_timeout * 1000))}")
        conn.execute(f"set local statement_timeout = {max(1, int(statement_timeout * 1000))}")
        tables = _snapshot(conn)
        stmt = None
        try:
            for earlier in context:
                for stmt in earlier:
                    conn.execute(stmt.text.encode())
            tables.held = {k for k, _ in _state(conn, tables)}
            for stmt in statements:
                started = time.perf_counter()
                conn.execute(stmt.text.encode())
                ms = (time.perf_counter() - started) * 1000
                measurement = _after(conn, tables, ms)
                measured[stmt.index] = measurement
                verdict = _finding(file, stmt, measurement)
                if verdict is not None:
                    found.append(verdict)
        except psycopg.Error as exc:
            failure = _failed(file, stmt, exc, lock_timeout, replayed=stmt not in statements)
    return measured, found, failure


def _snapshot(conn: psycopg.Connection[Any]) -> _Tables:
    rows = conn.execute(_TABLES).fetchall()
    return _Tables({r[0]: r[1] for r in rows}, {r[0]: int(r[3]) for r in rows},
                   {r[0]: str(r[2]) for r in rows}, set())


def _state(conn: psycopg.Connection[Any], tables: _Tables) -> list[tuple[tuple[int, str], str]]:
    rows = conn.execute(_STATE, {"oids": list(tables.names)}).fetchall()
    locks = [((r[1], r[2]), "lock") for r in rows if r[0] == "lock"]
    files = [((r[1], r[2]), "file") for r in rows if r[0] == "file"]
    return locks + files


def _after(conn: psycopg.Connection[Any], tables: _Tables, ms: float) -> Measurement:
    state = _state(conn, tables)
    locks_now = {key for key, kind in state if kind == "lock"}
    new = sorted(locks_now - tables.held)
    tables.held = locks_now
    rewritten = []
    for (oid, node), kind in state:
        if kind == "file" and tables.files.get(oid) != node:
            rewritten.append(tables.names[oid])
            tables.files[oid] = node
    locks = tuple(Lock(tables.names[oid], mode_name(mode), tables.rows.get(oid, 0),
                       BLOCKS.get(mode, ())) for oid, mode in new)
    return Measurement(ms, locks, tuple(rewritten))


def _finding(file: MigrationFile, stmt: Statement, m: Measurement) -> Finding | None:
    blocking = [lock for lock in m.locks if lock.blocks]
    if not blocking and not m.rewritten:
        return None
    rows = max((lock.rows for lock in blocking), default=m.rows)
    parts = [f"{lock.mode} on {lock.relation} ({lock.rows:,} rows; blocks "
             f"{', '.join(lock.blocks)})" for lock in blocking]
    message = f"took {'; '.join(parts) or 'no blocking lock'} in {m.ms:.0f} ms"
    if blocking:
        message += ", held until the file's transaction ends"
    rule = "measured-rewrite" if m.rewritten else "measured-lock"
    if m.rewritten:
        message += f"; rewrote {', '.join(m.rewritten)}"
    heavy = bool(m.rewritten) or (rows > 0 and m.ms >= SLOW_MS)
    return finding(rule, file.name, stmt.line, stmt.column, "measured: " + message,
                   statement=stmt.index, severity="error" if heavy else "warning",
                   measured=m)


def _failed(file: MigrationFile, stmt: Statement | None, exc: Exception, lock_timeout: float,
            replayed: bool) -> Finding:
    import psycopg

    line, column, index = (stmt.line, stmt.column, stmt.index) if stmt else (1, 1, 0)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        return finding("measure-failed", file.name, line, column,
                       f"measured: could not get its lock within {lock_timeout:g} s ({text}): "
                       "another transaction holds the table; the real migration would wait "
                       "and retry", statement=index, severity="warning")
    where = "while replaying an earlier pending file" if replayed else "when run"
    return finding("measure-failed", file.name, line, column,
                   f"measured: the statement failed {where} (rolled back): {text}",
                   statement=index)
