"""The commands that change nothing: status, check, diff and lint."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import runner
from ..errors import UsageError
from ._group import EXIT_OK, EXIT_WORK, SECONDS, main
from ._local_cluster import local_default
from ._options import (
    database_command,
    dir_option,
    emit,
    json_option,
    lazy_dsn_option,
    quiet_option,
    wait_option,
)


@main.command()
@database_command
def status(dsn: str | None, directory: Path | None, as_json: bool, wait: float) -> None:
    """Show every file: applied, pending, changed or missing."""
    result = runner.status(dsn, directory=directory, wait=wait)
    rows = []
    for e in result.entries:
        a = e.applied
        note = ""
        if a and a.kind == "baseline":
            note = "baseline (recorded, not run)"
        if a and a.accepted_at:
            note = f"edit accepted {a.accepted_at:%Y-%m-%d} by {a.accepted_by}: {a.accepted_reason}"
        rows.append((e.file, e.state, f"{a.applied_at:%Y-%m-%d %H:%M:%S}" if a else "",
                     f"{a.duration_ms} ms" if a else "", note))
    width = max([len(r[0]) for r in rows] + [4])
    lines = [f"{'FILE':<{width}}  {'STATE':<8} {'APPLIED AT':<19}  {'TIME':>8}  NOTE"]
    lines += [f"{f:<{width}}  {s:<8} {at:<19}  {d:>8}  {n}".rstrip() for f, s, at, d, n in rows]
    lines.append(f"history: {result.history or 'none yet (migrate creates it in schema storedb)'}")
    emit(as_json, result.to_json(), "\n".join(lines))


@main.command()
@database_command
@click.option("--tenancy", is_flag=True, help="Audit the catalog for tenant isolation rules.")
def check(dsn: str | None, directory: Path | None, as_json: bool, wait: float,
          tenancy: bool) -> None:
    """Change nothing; exit 0 when all is applied, 3 when there is work (or violations)."""
    result = runner.check(dsn, directory=directory, wait=wait, tenancy=tenancy)
    text = "\n".join(f"{e.state:<8} {e.file}" for e in result.problems)
    text = text or result.files_skipped or "ok: every file is applied and unchanged"
    report = result.tenancy
    if report is not None:
        text += "\n" + ("\n".join(f"{v.table}: {v.message}\n    fix: {v.fix}"
                                  for v in report.violations)
                        or f"tenancy ok: {report.tables} tenant tables checked")
        text += f"\n{report.role}" if report.role else ""
    emit(as_json, result.to_json(), text)
    sys.exit(EXIT_OK if result.ok else EXIT_WORK)

@main.command()
@quiet_option
@lazy_dsn_option
@dir_option
@json_option
@wait_option
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--all", "all_files", is_flag=True,
              help="Lint every file, applied or not (needs no database).")
@click.option("--measure", is_flag=True,
              help="Also run each pending transactional file on the database in a transaction "
              "that is always rolled back, and report the locks, rewrites, time and row "
              "counts it really caused.")
@click.option("--lock-timeout", type=SECONDS, default=1.0, show_default=True, metavar="SECONDS",
              help="With --measure: lock_timeout of the measured statements, so the "
              "measurement never queues in front of the application.")
def lint(dsn: str | None, directory: Path | None, as_json: bool, wait: float,
         files: tuple[str, ...], all_files: bool, measure: bool, lock_timeout: float) -> None:
    """Find dangerous statements in migration files (default: the pending ones).

    FILE is named as status shows it (migrations/006_x.sql) or by its path.
    With FILEs or --all no database is needed (unless --measure). Exit 0 when
    clean, 3 with findings (errors or warnings), 1 when lint itself failed.
    """
    from ..lint import lint as run_lint

    if files and all_files:
        raise UsageError("give FILEs or --all, not both.")
    db = local_default(dsn) if measure or not (files or all_files) else dsn
    result = run_lint(db, files=files, all_files=all_files, directory=directory,
                      measure=measure, lock_timeout=lock_timeout, wait=wait)
    lines = [str(f) for f in result.findings]
    lines += [f"note: {n}" for n in result.notes]
    lines.append(result.summary())
    emit(as_json, result.to_json(), "\n".join(lines))
    sys.exit(EXIT_OK if result.ok else EXIT_WORK)

@main.command()
@database_command
@click.argument("file")
def diff(dsn: str | None, directory: Path | None, as_json: bool, wait: float, file: str) -> None:
    """Unified diff between FILE as applied (history) and on disk."""
    from ..runner import diff as run_diff

    text = run_diff(dsn, file, directory=directory, wait=wait)
    emit(as_json, {"file": file, "diff": text}, text or f"{file}: unchanged since applied")
