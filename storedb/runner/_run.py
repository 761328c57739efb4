"""migrate, status and check: the whole product on one screen.

find the files → compare with the history → apply each pending file in its
own transaction together with its history row.  An up-to-date database costs
one query: the digest of the history against the digest of the directory.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from .._connection import Database, conninfo_of, resolve, session, usable
from ..errors import HistoryError
from . import _history as history
from . import _session
from ._apply import apply_with_retries, checks_client, closing, lock_timeout_ms, prologue
from ._files import (
    Directory,
    MigrationFile,
    checksums,
    directory_digest,
    file_name,
    load_directory,
    resolve_directory,
)
from ._lock import runner_lock
from ._plan import Plan, make_plan, refuse_drift
from ._progress import Progress, Reporter, parse_all
from ._results import AppliedFile, CheckResult, MigrateResult, StatusResult
from ._statements import Statement, terminated

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("storedb")


def migrate(db: Database | None = None, *, directory: Directory = None,
            target: str | None = None, out_of_order: bool = False, dry_run: bool = False,
            sql: bool = False, lock_timeout: float = 60.0, statement_lock_timeout: float = 5.0,
            lock_retries: int = 3, wait: float = 0.0,
            on_applied: Callable[[AppliedFile], None] | None = None,
            on_progress: Callable[[Progress], None] | None = None,
            progress_interval: float | None = None) -> MigrateResult:
    """Apply every pending file, in order, each atomically with its history row.

    Progress goes to the ``storedb`` logger and to ``on_progress``: each file's
    start and end, each statement (DEBUG), and every ``progress_interval``
    seconds (default 10, or $STOREDB_PROGRESS_INTERVAL) a line about a
    statement still running and what it waits on.
    """
    root = resolve_directory(directory)
    target = file_name(target, root) if target else None
    digest = directory_digest(checksums(root))
    with session(resolve(db), wait=wait) as conn:
        # a history not yet in its own schema counts as "not up to date": the run moves it
        if target is None and history.history_digest(conn, legacy=False) == digest:
            return MigrateResult(up_to_date=True, dry_run=dry_run)
        files = load_directory(root)  # there is work: now read the files themselves
        if dry_run:
            plan = _plan(conn, files, target, out_of_order)
            parsed = parse_all(plan.pending)
            script = _script(conn, parsed, statement_lock_timeout) if sql else None
            return MigrateResult(pending=tuple(f.name for f in plan.pending), dry_run=True,
                                 up_to_date=not plan.pending, sql=script)
        done = None if target else (lambda: history.history_digest(conn) == digest)
        with runner_lock(conn, timeout=lock_timeout, done=done) as locked:
            if not locked:
                return MigrateResult(up_to_date=True)
            history.ensure(conn)
            snapshot = _session.capture(conn)
            plan = _plan(conn, files, target, out_of_order)  # re-read: others may have run
            parsed = parse_all(plan.pending)  # every file checked before any runs
            restore = _session.restore(snapshot)
            applied: list[AppliedFile] = []
            reporter = Reporter(lambda: conninfo_of(conn), on_progress, progress_interval)
            try:
                for i, (f, statements) in enumerate(parsed):
                    if not statements:
                        log.warning("%s holds only comments: recorded as applied without "
                                    "running anything (as psql would run it)", f.name)
                    with reporter.file(conn, f, statements) as on_statement:
                        ms = apply_with_retries(
                            conn, f, statements, record=partial(history.record, f),
                            restore=restore, lock_retries=lock_retries,
                            statement_lock_timeout=statement_lock_timeout,
                            durable=i == len(parsed) - 1, earlier=len(applied),
                            on_statement=on_statement)
                    applied.append(AppliedFile(f.name, ms, len(statements)))
                    reporter.emit(Progress("file-done", f.name, len(statements), seconds=ms / 1000))
                    if on_applied:
                        on_applied(applied[-1])
            except BaseException:
                reporter.close()
                _end_run(conn, restore, digest, applied, failed=True)
                raise
            reporter.close()
            _end_run(conn, restore, digest, applied, failed=False)
    return MigrateResult(applied=tuple(applied), up_to_date=not applied)


def _end_run(conn: psycopg.Connection[Any], restore: str, digest: str,
             applied: list[AppliedFile], *, failed: bool) -> None:
    """Hand the session back as it was and log the run, never hiding the run's own error.

    The log row commits synchronously, so after a failure it also makes the
    files this run committed without waiting for the disk durable; if it
    cannot be written, an empty synchronous commit does that instead.
    """
    import psycopg

    if not usable(conn):
        return  # the error already says the connection was lost
    try:
        conn.execute(restore)
        if applied:
            detail = f"applied {len(applied)} file(s)" + (", then failed" if failed else "")
            conn.execute("begin; set local synchronous_commit = on; "
                         + history.log_entry("migrate", None, digest, detail) + "; commit")
    except psycopg.Error as exc:
        log.warning("could not log this run in %s (%s)%s", history.LOG_TABLE,
                    " ".join(str(exc).split()), "; the run's own error follows" if failed else "")
        if usable(conn):
            with contextlib.suppress(psycopg.Error):
                conn.execute("rollback; begin; set local synchronous_commit = on; "
                             "select txid_current(); commit")


def status(db: Database | None = None, *, directory: Directory = None, wait: float = 0.0
           ) -> StatusResult:
    """Every file's state (applied, pending, changed, missing), and where the history is."""
    files = load_directory(resolve_directory(directory))
    with session(resolve(db), wait=wait) as conn:
        where = history.table(conn)
        entries = make_plan(files, history.read(conn)).entries
    if where == history.LEGACY_TABLE:
        where += f" (the next migrate moves it to {history.TABLE})"
    return StatusResult(entries, where)


def check(db: Database | None = None, *, directory: Directory = None, wait: float = 0.0,
          tenancy: bool = False) -> CheckResult:
    """Whether everything is applied and unchanged; changes nothing.

    ``tenancy=True`` also audits the catalog for the isolation rules, after the
    files: an audit of a half-migrated schema would mislead.
    """
    skipped = None
    try:
        plan = _current_plan(db, directory, wait)
    except HistoryError as exc:
        # The application's role may not read the history; its isolation can still be proved.
        import psycopg

        if not tenancy or not isinstance(exc.__cause__, psycopg.errors.InsufficientPrivilege):
            raise
        plan = Plan(entries=(), pending=(), out_of_order=())
        skipped = ("files not compared: this role may not read the migration history (the "
                   "application's role need not); compare them with the owner's DSN")
    problems = tuple(e for e in plan.entries if e.state != "applied")
    report = None
    if tenancy:
        from ..tenancy._check import check_tenancy

        report = check_tenancy(db, wait=wait)
    return CheckResult(ok=not problems and (report is None or report.ok), problems=problems,
                       out_of_order=plan.out_of_order, tenancy=report, files_skipped=skipped)


def _current_plan(db: Database | None, directory: Directory, wait: float) -> Plan:
    files = load_directory(resolve_directory(directory))
    with session(resolve(db), wait=wait) as conn:
        return make_plan(files, history.read(conn))


def _plan(conn: psycopg.Connection[Any], files: list[MigrationFile], target: str | None,
          out_of_order: bool) -> Plan:
    plan = make_plan(files, history.read(conn), target=target)
    refuse_drift(plan, allow_out_of_order=out_of_order)
    return plan


def _script(conn: psycopg.Connection[Any], parsed: list[tuple[MigrationFile, list[Statement]]],
            lock_timeout: float) -> str:
    """The SQL a run would send, message for message, as a reviewable script.

    Each file appears as its own text, untouched, between the statements
    storedb sends before and after it; psql would run the script the same way.
    """
    timeout_ms = lock_timeout_ms(lock_timeout)
    check_client = checks_client(conn)
    restore = _session.restore(_session.capture(conn))
    out = []
    for i, (f, statements) in enumerate(parsed):
        mode = "one transaction" if f.transactional else "no transaction: each statement commits"
        out.append(f"-- {f.name}: {len(statements)} statement(s), {mode}")
        out.append(prologue(f, lock_timeout_ms=timeout_ms, check_client=check_client) + ";")
        text = f.text if f.text.endswith("\n") else f.text + "\n"
        if statements and not terminated(f.text, statements[-1].end):
            text += ";\n"
        out.append(text.rstrip("\n"))
        record = history.record(f, None if f.transactional else 0)
        out.append(closing(f, record=record, restore=restore, durable=i == len(parsed) - 1)
                   + ";\n")
    return "\n".join(out)


__all__ = ["check", "migrate", "status"]
