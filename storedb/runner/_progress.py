"""Progress of a migration run: lines a person can watch, callbacks a program can use.

* A line when each file starts (its statement count) and when it ends; with
  ``-v`` a line per statement.
* While one statement runs longer than the interval (10 s unless
  ``STOREDB_PROGRESS_INTERVAL`` or ``progress_interval`` says otherwise), a
  line every interval with the statement number, how long it has run and
  what it waits on: a wait event, or the lock and who holds it.  A watcher
  thread reads pg_stat_activity for the runner's backend, on a connection of
  its own opened only once a file has run for a whole interval, so quick runs
  pay nothing.
* Large files (a 50 MB dump) say how parsing and applying go (:func:`parse_all`,
  :class:`LargeFile`).

A transactional file travels as one message, exactly as written, and
PostgreSQL sends the results of a message's statements in batches (when its
output buffer fills, and at the end), so for such a file the running
statement is known only as "k or later"; a ``no-transaction`` file runs
statement by statement and its number is exact.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._files import MigrationFile
from ._statements import Statement, split

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("storedb")

INTERVAL_ENV = "STOREDB_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 10.0

#: Files at least this large (bytes) get progress lines.
LARGE = 1 << 20
#: Seconds between two progress lines of one file.
EVERY = 5.0


def parse_all(files: Iterable[MigrationFile]) -> list[tuple[MigrationFile, list[Statement]]]:
    """Split every file (all are checked before anything runs), saying so for large ones."""
    out = []
    for f in files:
        large = len(f.data) >= LARGE
        if large:
            log.info("parsing %s (%.1f MB)...", f.name, len(f.data) / 1e6)
        started = time.perf_counter()
        statements = split(f)
        if large:
            log.info("%s: %d statements, parsed in %.2f s", f.name, len(statements),
                     time.perf_counter() - started)
        out.append((f, statements))
    return out


class LargeFile:
    """Called with the statements done so far; logs at most every :data:`EVERY` seconds."""

    def __init__(self, file: MigrationFile, total: int) -> None:
        self.file, self.total = file, total
        self.started = time.monotonic()
        self.next = self.started + EVERY

    @classmethod
    def for_file(cls, file: MigrationFile, total: int) -> LargeFile | None:
        if len(file.data) < LARGE:
            return None
        log.info("applying %s: %d statements...", file.name, total)
        return cls(file, total)

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now >= self.next:
            self.next = now + EVERY
            log.info("%s: %d of %d statements done (%.0f s)", self.file.name, done, self.total,
                     now - self.started)


def interval_of(value: float | None) -> float:
    """The reporting interval: the argument, else $STOREDB_PROGRESS_INTERVAL, else 10 s."""
    if value is not None:
        return max(0.05, float(value))
    with contextlib.suppress(ValueError):
        return max(0.05, float(os.environ.get(INTERVAL_ENV, "")))
    return DEFAULT_INTERVAL


@dataclass(frozen=True)
class Progress:
    """One progress event; :attr:`text` is the line the CLI prints."""

    event: str  # "file-started", "statement-done", "still-running", "file-done"
    file: str
    statements: int
    statement: int | None = None  # 1-based
    seconds: float = 0.0
    waiting: str | None = None
    line: int | None = None
    #: "still-running" in a transactional file: ``statement`` or a later one is running
    or_later: bool = False

    @property
    def text(self) -> str:
        if self.event == "file-started":
            return f"applying {self.file} ({self.statements} statement(s))"
        if self.event == "file-done":
            return f"applied {self.file} in {self.seconds * 1000:.0f} ms"
        where = f"{self.file}: statement {self.statement}" + (
            " or later" if self.or_later else "") + f" of {self.statements}" + (
            f" (line {self.line})" if self.line and not self.or_later else "")
        if self.event == "statement-done":
            return f"{where} done"
        return f"{where} still running after {self.seconds:.0f} s: {self.waiting}"


@dataclass
class _Running:
    """The file being applied, shared with the watcher thread."""

    file: MigrationFile
    lines: list[int]
    pid: int
    done: int = 0  # statements known to be done
    since: float = 0.0  # when the last one was known done (or the file started)
    reported: tuple[int, int] | None = None  # (statement, reports made about it)


class Reporter:
    """Turns a run's events into log lines and ``on_progress`` calls; owns the watcher."""

    def __init__(self, conninfo: Callable[[], str],
                 on_progress: Callable[[Progress], None] | None = None,
                 interval: float | None = None) -> None:
        self._conninfo = conninfo
        self._callback = on_progress
        self.interval = interval_of(interval)
        self._running: _Running | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch_conn: psycopg.Connection[Any] | None = None

    def emit(self, progress: Progress) -> None:
        level = logging.DEBUG if progress.event == "statement-done" else logging.INFO
        log.log(level, "%s", progress.text)
        if self._callback is not None:
            self._callback(progress)

    @contextlib.contextmanager
    def file(self, conn: psycopg.Connection[Any], file: MigrationFile,
             statements: list[Statement]) -> Iterator[Callable[[int], None]]:
        """Report the file around the block; yields the ``on_statement(done)`` to pass on."""
        lines = [s.line for s in statements]
        total = len(lines)
        self.emit(Progress("file-started", file.name, total))
        running = _Running(file, lines, conn.info.backend_pid, since=time.monotonic())
        self._running = running
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="storedb-progress",
                                            daemon=True)
            self._thread.start()
        large = LargeFile.for_file(file, total)
        verbose = log.isEnabledFor(logging.DEBUG) or self._callback is not None

        def on_statement(done: int) -> None:
            running.done, running.since = done, time.monotonic()
            if verbose:
                self.emit(Progress("statement-done", file.name, total, done,
                                   line=lines[done - 1] if done <= total else None))
            if large is not None:
                large(done)

        try:
            yield on_statement
        finally:
            self._running = None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._watch_conn is not None:
            with contextlib.suppress(Exception):
                self._watch_conn.close()

    # ------------------------------------------------------------------ the watcher thread

    def _watch(self) -> None:
        tick = min(1.0, self.interval / 4)
        while not self._stop.wait(tick):
            running = self._running
            if running is None or time.monotonic() - running.since < self.interval:
                continue
            try:
                self._look(running)
            except Exception as exc:  # progress must never break a migration
                log.debug("progress watcher: %s", exc)
                return

    def _look(self, running: _Running) -> None:
        import psycopg

        if self._watch_conn is None:
            self._watch_conn = psycopg.connect(self._conninfo(), autocommit=True,
                                               application_name="storedb progress")
        row = self._watch_conn.execute(
            "select wait_event_type, wait_event, state, pg_blocking_pids(pid) "
            "from pg_stat_activity where pid = %s", (running.pid,)).fetchone()
        if row is None or self._running is not running:
            return
        k, elapsed = running.done + 1, time.monotonic() - running.since
        total = len(running.lines)
        if k > total or elapsed < self.interval:
            return  # between statements, or recording the file
        due = int(elapsed // self.interval)
        if running.reported and running.reported[0] == k and running.reported[1] >= due:
            return
        running.reported = (k, due)
        waiting = self._waiting(running.pid, *row)
        exact = not running.file.transactional
        self.emit(Progress("still-running", running.file.name, total, k, elapsed, waiting,
                           running.lines[k - 1], or_later=not exact))

    def _waiting(self, pid: int, wait_type: str | None, wait_event: str | None,
                 state: str | None, blockers: list[int] | None) -> str:
        assert self._watch_conn is not None
        if wait_type == "Lock" and blockers:
            lock = self._watch_conn.execute(
                "select mode, coalesce(relation::regclass::text, locktype) from pg_locks "
                "where pid = %s and not granted limit 1", (pid,)).fetchone()
            what = f"{lock[0]} on {lock[1]}" if lock else "a lock"
            return f"waiting for {what}, held by " + "; ".join(
                holders(self._watch_conn, list(blockers)).values())
        if wait_type:
            return f"waiting on {wait_type}:{wait_event}"
        return "working (no wait event: on CPU)" if state == "active" else f"{state}"


_HOLDERS = """
select a.pid, coalesce(nullif(a.application_name, ''), '?'), coalesce(a.usename, '?'), a.state,
       to_char(a.xact_start, 'HH24:MI:SS'),
       left(regexp_replace(a.query, '\\s+', ' ', 'g'), 80), current_user
from pg_stat_activity a where a.pid = any(%s) order by a.pid
"""


def holders(conn: psycopg.Connection[Any], pids: list[int]) -> dict[int, str]:
    """Each backend in ``pids``, described with what this role may see of it.

    pg_stat_activity shows every role the pid, user and application of other
    sessions, but their state, transaction start and query only to
    superusers, members of pg_read_all_stats and members of the session's
    role: for the others the text says what is hidden and why, instead of
    printing ``None`` and ``<insufficient privilege>``.
    """
    found = {row[0]: describe_backend(*row) for row in conn.execute(_HOLDERS, (pids,))}
    return {pid: found.get(pid, f"pid {pid} (gone since)") for pid in pids}


def describe_backend(pid: int, app: str, user: str, state: str | None, since: str | None,
                     query: str | None, me: str = "") -> str:
    """One backend as 'pid 123 (psql, user bob, idle in transaction since 10:01:02): query'."""
    if state is None:  # pg_stat_activity hides the rest from this role
        return (f"pid {pid} ({app}, user {user}; its state and query are hidden from role "
                f"{me or 'this role'}: only superusers, members of pg_read_all_stats or of "
                f"role {user} can see them)")
    started = f", transaction since {since}" if since else ", no transaction open"
    return f"pid {pid} ({app}, user {user}, {state}{started}): {query or ''}".rstrip(": ")
