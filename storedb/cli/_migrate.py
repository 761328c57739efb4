"""``storedb migrate``: one database, or a fleet of them, optionally linted first."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import runner
from ..errors import UsageError
from ._group import EXIT_FAILED, SECONDS, main
from ._local_cluster import local_default
from ._options import dir_option, dsns_option, emit, json_option, quiet_option, wait_option


@main.command()
@quiet_option
@dsns_option
@dir_option
@json_option
@wait_option
@click.option("--dsn-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Migrate every database listed in FILE (one DSN a line).")
@click.option("--jobs", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Databases migrated at once with several --dsn or --dsn-file.")
@click.option("--dry-run", is_flag=True, help="List what would run; apply nothing.")
@click.option("--sql", "show_sql", is_flag=True, help="With --dry-run: print the exact SQL.")
@click.option("--target", metavar="FILE", help="Stop after this file (e.g. migrations/002_x.sql).")
@click.option("--out-of-order", is_flag=True,
              help="Apply pending files that sort before already-applied ones.")
@click.option("--lock-timeout", type=SECONDS, default=60.0, show_default=True, metavar="SECONDS",
              help="How long to wait for another runner's migration lock.")
@click.option("--statement-lock-timeout", type=SECONDS, default=5.0, show_default=True,
              metavar="SECONDS", help="PostgreSQL lock_timeout for migration statements, so a "
              "migration never queues behind a long transaction and blocks the app.")
@click.option("--lock-retries", type=click.IntRange(0, 20), default=3, show_default=True,
              help="Retry a file whose lock wait timed out, after 1, 2, 4... seconds.")
@click.option("--lint", "lint_first", is_flag=True,
              help="Lint the pending files first (storedb lint); refuse to run anything on an "
              "error finding (warnings are printed).")
def migrate(dsn: tuple[str, ...], directory: Path | None, as_json: bool, wait: float,
            dsn_file: Path | None, jobs: int, dry_run: bool,
            show_sql: bool, target: str | None, out_of_order: bool, lock_timeout: float,
            statement_lock_timeout: float, lock_retries: int, lint_first: bool) -> None:
    """Apply pending migration files, each atomically with its history row."""
    if show_sql and not dry_run:
        raise UsageError("--sql goes with --dry-run (it prints the SQL instead of running it).")
    if lint_first:
        _lint_before_migrate(_fleet_dsns(dsn, dsn_file) or [local_default(None)], directory,
                             wait)
    options: dict[str, Any] = dict(directory=directory, target=target, out_of_order=out_of_order,
                                   dry_run=dry_run, sql=show_sql, lock_timeout=lock_timeout,
                                   statement_lock_timeout=statement_lock_timeout,
                                   lock_retries=lock_retries, wait=wait)
    dsns = _fleet_dsns(dsn, dsn_file)
    if len(dsns) > 1 or dsn_file:
        _migrate_fleet(dsns, jobs, as_json, options)
        return
    result = runner.migrate(local_default(dsns[0] if dsns else None), **options)
    if dry_run:
        text = result.sql if show_sql and result.sql else (
            "\n".join(f"would apply {p}" for p in result.pending) or "nothing to apply")
    else:
        text = (f"applied {len(result.applied)} file(s) in "
                f"{sum(a.duration_ms for a in result.applied)} ms" if result.applied
                else "up to date: nothing to apply")
    emit(as_json, result.to_json(), text)


def _lint_before_migrate(dsns: list[str], directory: Path | None, wait: float) -> None:
    """``migrate --lint``: the pending files of every database, linted before anything runs."""
    from ..errors import LintFailed
    from ..lint import lint as run_lint

    seen: dict[str, Any] = {}
    for db in dsns:
        for found in run_lint(db, directory=directory, wait=wait).findings:
            seen.setdefault(str(found), found)
    errors = [f for f in seen.values() if f.severity == "error"]
    for found in seen.values():
        if found.severity != "error":
            click.echo(f"storedb: lint {found}", err=True)
    if errors:
        raise LintFailed("migrate --lint: the pending files have "
                         f"{len(errors)} lint error(s); nothing was applied:\n"
                         + "\n".join(str(f) for f in errors)
                         + "\nFix them, or suppress one with '-- storedb:lint-ignore RULE "
                         "reason' on the line before its statement.",
                         findings=[f.to_json() for f in errors])


def _fleet_dsns(dsn: tuple[str, ...], dsn_file: Path | None) -> list[str]:
    dsns = list(dsn)
    if dsn_file:
        for line in dsn_file.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                dsns.append(line)
        if not dsns:
            raise UsageError(f"{dsn_file}: no DSN in the file (one per line, # for comments).")
    return dsns


def _migrate_fleet(dsns: list[str], jobs: int, as_json: bool, options: dict[str, Any]) -> None:
    from ..runner import FleetItem, migrate_many

    if options.get("sql"):
        raise UsageError("--sql prints one database's SQL: use it with a single --dsn.")

    def outcome(item: FleetItem) -> str:
        r = item.result
        if not item.ok or r is None:
            return "FAILED: " + str(item.error).splitlines()[0]
        if r.dry_run:
            return f"would apply {len(r.pending)} file(s)" if r.pending else "up to date"
        return f"applied {len(r.applied)} file(s)" if r.applied else "up to date"

    def line(item: FleetItem) -> None:
        if not as_json:
            click.echo(f"{item.dsn}: {outcome(item)} ({item.seconds:.2f}s)", err=True)

    result = migrate_many(dsns, jobs=jobs, on_done=line, **options)
    if as_json:
        click.echo(json.dumps(result.to_json(), default=str))
    else:
        width = max(len(i.dsn) for i in result.items)
        click.echo(f"{'DATABASE':<{width}}  RESULT")
        for item in result.items:
            click.echo(f"{item.dsn:<{width}}  {outcome(item)}")
        click.echo(f"{sum(i.ok for i in result.items)} of {len(result.items)} databases ok")
    if not result.ok:
        sys.exit(EXIT_FAILED)
