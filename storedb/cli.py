"""The command line: a thin shell over the library.

Each command calls one library function and prints its result; every
:class:`storedb.Error` is turned into a message and an exit code in one place
(:class:`_Group`).  Exit codes: 0 ok, 1 failure or refusal, 2 usage error,
3 ``check`` found work or ``lint`` found problems.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import click

from . import runner
from .errors import Error, UsageError

if TYPE_CHECKING:
    from ._local import LocalCluster

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_WORK = 0, 1, 2, 3


class _Seconds(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.2
    """A finite, non-negative number of seconds (nan and inf are typos, not timeouts)."""

    name = "SECONDS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or seconds < 0:
            self.fail(f"{value!r} must be a finite number of seconds >= 0", param, ctx)
        return seconds


SECONDS = _Seconds()


class _Terminated(KeyboardInterrupt):
    """SIGTERM (docker stop, systemd): handled like Ctrl-C, so the statement is cancelled."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated()


class _Group(click.Group):
    """The one place where failures become messages (or JSON) and exit codes.

    With ``--json`` anywhere on the line, even a usage error prints one JSON
    object on stdout.  A Python traceback is shown only for a bug in storedb
    itself, and only with STOREDB_DEBUG=1.
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Run with stdout and stderr redacted: no password of a DSN on the command line
        (in an option, or misplaced as an argument) or in the environment reaches them."""
        from ._secrets import RedactingStream, remember

        argv = list(sys.argv[1:] if args is None else args)
        for value in [*argv, os.environ.get("DATABASE_URL", "")]:
            remember(value.split("=", 1)[1] if value.startswith("--") and "=" in value
                     else value)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
        try:
            return self._main(argv, prog_name, complete_var, standalone_mode, **extra)
        except Exception:  # only with STOREDB_DEBUG=1: the traceback, redacted as well
            import traceback

            traceback.print_exc()
            sys.exit(1)
        finally:
            sys.stdout, sys.stderr = saved

    def _main(self, argv: list[str], prog_name: str | None, complete_var: str | None,
              standalone_mode: bool, **extra: Any) -> Any:
        as_json = "--json" in argv

        def fail(kind: str, message: str, code: int, payload: dict[str, Any] | None = None
                 ) -> None:
            if as_json:
                click.echo(json.dumps({"error": payload or {"type": kind, "message": message}},
                                      default=str))
            else:
                click.echo(f"storedb: {'' if code in (130, 143) else 'error: '}{message}", err=True)
            sys.exit(code)

        signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            code = super().main(argv, prog_name=prog_name or "storedb", complete_var=complete_var,
                                standalone_mode=False, **extra)
        except Error as exc:
            fail(type(exc).__name__, str(exc), exc.exit_code, exc.to_json())
        except click.ClickException as exc:
            if isinstance(exc, click.UsageError) and "unexpected extra argument" in \
                    exc.message and any(c in exc.message for c in ("://", "=")):
                exc = click.UsageError(f"{exc.message}\nHint: give the database with --dsn "
                                       "DSN (or DATABASE_URL).", exc.ctx)
            if not as_json:
                exc.show()
                sys.exit(exc.exit_code)
            fail("UsageError", exc.format_message(), exc.exit_code)
        except (KeyboardInterrupt, click.Abort) as exc:
            cause = exc.__cause__ or exc.__context__  # click turns it into Abort
            word, code = ("terminated", 143) if _Terminated in (type(exc), type(cause)) else (
                "interrupted", 130)
            fail("Interrupted", f"{word}: the statement running was cancelled and the file "
                 "being applied rolled back (a no-transaction file keeps the statements it had "
                 "committed); files applied before it stay. Run migrate again to continue.", code)
        except Exception as exc:
            if os.environ.get("STOREDB_DEBUG"):
                raise
            fail("InternalError", f"internal error ({type(exc).__name__}: {exc}). This is a bug "
                 "in storedb; run again with STOREDB_DEBUG=1 for the traceback and report it.", 1)
        if not standalone_mode:
            return code
        sys.exit(code or 0)


def _setup_logging(quiet: bool, verbose: bool = False) -> None:
    log = logging.getLogger("storedb")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("storedb: %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)


# Shared options, one decorator each (as sqlite-utils does): a command lists the
# ones it takes, and its parameters match the library function it calls.

def _local_default(dsn: str | None) -> str:
    """What a command without --dsn uses: the environment, else the local cluster.

    Only the CLI falls back to a server of its own (the library refuses to); it
    says where the server is and how to stop it.
    """
    from ._connection import env_dsn

    if dsn is not None:
        return dsn
    from_env = env_dsn()
    if from_env is not None:
        return from_env
    return _start_local().dsn


def _start_local() -> LocalCluster:
    """The local development cluster, started (and its database prepared) when needed."""
    from ._local import ensure_running, is_running, locate

    log = logging.getLogger("storedb")
    cluster = locate()
    if not is_running(cluster):
        log.info("starting the local PostgreSQL under %s (stop it with 'storedb local stop')",
                 cluster.root)
    cluster = ensure_running(on_create=_prepare_local)
    where = str(cluster.root) if cluster.home == cluster.root else \
        f"{cluster.root} (data in {cluster.home}, which the postgres user can reach)"
    log.info("using the local PostgreSQL under %s: %s", where, cluster.dsn)
    return cluster


def _prepare_local(dsn: str) -> None:
    """A new local database: marked for development (seed allows it), with an app role."""
    from .runner._seed import mark_development

    mark_development(dsn)
    _local_app_role(dsn)


def _local_app_role(dsn: str) -> None:
    """The local cluster's application role (``app``, subject to RLS), made if missing.

    The development superuser bypasses row level security, so an application
    tried against it would see every store: the local cluster offers a role
    that behaves like production's.  storedb_app is created here as a DBA would
    before the first migration (003 then finds it and grants it the tables).
    """
    from ._connection import session
    from ._local import APP_USER
    from .tenancy import create_app_role

    with session(dsn) as conn:
        conn.execute(
            "do $$ begin if not exists (select from pg_roles where rolname = 'storedb_app') "
            "then create role storedb_app nologin nobypassrls; comment on role storedb_app is "
            "'storedb: group role of application login roles. Subject to RLS; call "
            "set_current_store_id() in every transaction.'; end if; end $$")
    create_app_role(dsn, APP_USER)


def dsn_option(func: F) -> F:
    """One database: --dsn, else $DATABASE_URL / PG*, else the local cluster."""

    @click.option("--dsn", "dsn", metavar="DSN",
                  help="Database URL or conninfo. Default: $DATABASE_URL, else libpq's PG* "
                  "variables, else the local cluster (started if needed).")
    @functools.wraps(func)
    def wrapper(*args: Any, dsn: str | None, **kwargs: Any) -> Any:
        return func(*args, dsn=_local_default(dsn), **kwargs)

    return wrapper  # type: ignore[return-value]


def lazy_dsn_option(func: F) -> F:
    """One database, only when the command needs one: --dsn as given (None if absent).

    The command calls :func:`_local_default` itself when it turns out to need a
    database, so ``storedb lint --all`` never starts or contacts a server.
    """

    @click.option("--dsn", "dsn", metavar="DSN",
                  help="Database URL or conninfo, when one is needed. Default: $DATABASE_URL, "
                  "else libpq's PG* variables, else the local cluster (started if needed).")
    @functools.wraps(func)
    def wrapper(*args: Any, dsn: str | None, **kwargs: Any) -> Any:
        return func(*args, dsn=dsn, **kwargs)

    return wrapper  # type: ignore[return-value]


def dsns_option(func: F) -> F:
    """Several databases (migrate only): --dsn as often as needed."""

    @click.option("--dsn", "dsn", metavar="DSN", multiple=True,
                  help="Database URL or conninfo; give it several times to migrate a fleet. "
                  "Default: $DATABASE_URL, else libpq's PG* variables, else the local cluster.")
    @functools.wraps(func)
    def wrapper(*args: Any, dsn: tuple[str, ...], **kwargs: Any) -> Any:
        return func(*args, dsn=dsn, **kwargs)

    return wrapper  # type: ignore[return-value]


dir_option = click.option(
    "--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
    help="SQL root holding schema/ and migrations/. Default: $STOREDB_DIR, else ./infra/db, "
    "else the SQL shipped with storedb.")
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object on stdout.")
wait_option = click.option("--wait", type=SECONDS, default=0.0, metavar="SECONDS",
                           help="Retry connecting for up to SECONDS while the server starts.")


def quiet_option(func: F) -> F:
    """-q: only warnings and errors on stderr; -v: a line per statement too."""

    @click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
    @click.option("-v", "--verbose", is_flag=True,
                  help="More detail on stderr (a line per statement applied).")
    @functools.wraps(func)
    def wrapper(*args: Any, quiet: bool, verbose: bool, **kwargs: Any) -> Any:
        if quiet and verbose:
            raise UsageError("-q and -v contradict each other: give one of them.")
        _setup_logging(quiet, verbose)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def database_command(func: F) -> F:
    """The options of every command that works on one database."""
    for option in (wait_option, json_option, dir_option, dsn_option, quiet_option):
        func = option(func)
    return func


def _emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    if as_json:
        click.echo(json.dumps(payload, default=str))
    elif text:
        click.echo(text)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="storedb")
def main() -> None:
    """storedb: migrate and check a storedb PostgreSQL database.

    Exit codes: 0 ok, 1 failure or refusal, 2 usage error, 3 check found work
    or lint found problems, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM);
    an interrupted file is rolled back.
    """


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
        _lint_before_migrate(_fleet_dsns(dsn, dsn_file) or [_local_default(None)], directory,
                             wait)
    options: dict[str, Any] = dict(directory=directory, target=target, out_of_order=out_of_order,
                                   dry_run=dry_run, sql=show_sql, lock_timeout=lock_timeout,
                                   statement_lock_timeout=statement_lock_timeout,
                                   lock_retries=lock_retries, wait=wait)
    dsns = _fleet_dsns(dsn, dsn_file)
    if len(dsns) > 1 or dsn_file:
        _migrate_fleet(dsns, jobs, as_json, options)
        return
    result = runner.migrate(_local_default(dsns[0] if dsns else None), **options)
    if dry_run:
        text = result.sql if show_sql and result.sql else (
            "\n".join(f"would apply {p}" for p in result.pending) or "nothing to apply")
    else:
        text = (f"applied {len(result.applied)} file(s) in "
                f"{sum(a.duration_ms for a in result.applied)} ms" if result.applied
                else "up to date: nothing to apply")
    _emit(as_json, result.to_json(), text)


def _lint_before_migrate(dsns: list[str], directory: Path | None, wait: float) -> None:
    """``migrate --lint``: the pending files of every database, linted before anything runs."""
    from .errors import LintFailed
    from .lint import lint as run_lint

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
    from .runner import FleetItem, migrate_many

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
    _emit(as_json, result.to_json(), "\n".join(lines))


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
    _emit(as_json, result.to_json(), text)
    sys.exit(EXIT_OK if result.ok else EXIT_WORK)


@main.command()
@database_command
@click.argument("tenant_id")
@click.option("--max-seconds", type=SECONDS, default=1.0, show_default=True,
              help="Time budget of each transaction; batch sizes follow it.")
@click.option("--batch-rows", type=click.IntRange(100, 100_000), default=1000,
              show_default=True, help="Rows of the first batch.")
def offboard(dsn: str | None, directory: Path | None, as_json: bool, wait: float,
             tenant_id: str, max_seconds: float, batch_rows: int) -> None:
    """Delete a soft-deleted tenant in short transactions (resumable; run as the owner)."""
    from .tenancy import OffboardStep, offboard_tenant

    def report(step: OffboardStep) -> None:
        if not as_json:
            click.echo(f"{step.total:>10} rows  {step.rows:>7} from {step.table:<26} "
                       f"{step.seconds * 1000:7.0f} ms", err=True)

    try:
        key = str(UUID(tenant_id))
    except ValueError:
        raise UsageError(f"{tenant_id!r} is not a tenant id (a UUID)") from None
    result = offboard_tenant(dsn, key, max_seconds=max_seconds, batch_rows=batch_rows,
                             wait=wait, progress=report)
    _emit(as_json, result.to_json(),
          f"offboarded tenant {result.tenant_id}: {result.rows} rows in {result.batches} "
          f"transactions, {result.seconds:.1f} s (longest {result.longest_batch_seconds:.2f} s); "
          "recorded in tenant_deletions")


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
    from .lint import lint as run_lint

    if files and all_files:
        raise UsageError("give FILEs or --all, not both.")
    db = _local_default(dsn) if measure or not (files or all_files) else dsn
    result = run_lint(db, files=files, all_files=all_files, directory=directory,
                      measure=measure, lock_timeout=lock_timeout, wait=wait)
    lines = [str(f) for f in result.findings]
    lines += [f"note: {n}" for n in result.notes]
    lines.append(result.summary())
    _emit(as_json, result.to_json(), "\n".join(lines))
    sys.exit(EXIT_OK if result.ok else EXIT_WORK)


@main.command()
@click.argument("name")
@quiet_option
@dir_option
@json_option
def new(name: str, directory: Path | None, as_json: bool) -> None:
    """Create migrations/NNN_NAME.sql with the next free number and a header template."""
    from .runner._files import next_migration_name, resolve_directory
    from .runner._template import header

    if directory is None and not os.environ.get("STOREDB_DIR") and not Path("infra/db").is_dir():
        raise UsageError("no SQL directory here: run 'storedb new' from the project root (where "
                         "infra/db is), or pass --dir. It never writes into the SQL shipped "
                         "with storedb.")
    if directory is not None and not directory.is_dir():
        raise UsageError(f"--dir {directory} does not exist. Pass the SQL root that holds "
                         f"migrations/ (e.g. infra/db), or create it first (mkdir -p "
                         f"{directory}/migrations): new does not create it, so that a typo "
                         "cannot start a second numbering at 001.")
    root = resolve_directory(directory)
    folder = root / "migrations"
    try:
        if not folder.is_dir():
            logging.getLogger("storedb").info("creating %s: this is its first migration",
                                              folder)
        folder.mkdir(parents=True, exist_ok=True)
        filename = next_migration_name((p.name for p in folder.iterdir()), name)
        path = folder / filename
        with path.open("x") as handle:  # never overwrite
            handle.write(header(f"migrations/{filename}"))
    except OSError as exc:
        raise UsageError(f"cannot create a migration in {folder}: {exc.strerror}. Pass --dir "
                         "with the SQL root (the folder holding migrations/).") from None
    _emit(as_json, {"created": str(path)}, str(path))


@main.command()
@database_command
@click.argument("file")
def diff(dsn: str | None, directory: Path | None, as_json: bool, wait: float, file: str) -> None:
    """Unified diff between FILE as applied (history) and on disk."""
    from .runner import diff as run_diff

    text = run_diff(dsn, file, directory=directory, wait=wait)
    _emit(as_json, {"file": file, "diff": text}, text or f"{file}: unchanged since applied")


@main.command()
@database_command
@click.argument("file")
@click.option("--reason", required=True, help="Why the edit is safe; kept in the history.")
def accept(dsn: str | None, directory: Path | None, as_json: bool, wait: float, file: str,
           reason: str) -> None:
    """Record a deliberate edit of an applied FILE (nothing is re-run)."""
    from .runner import accept as run_accept

    checksum = run_accept(dsn, file, reason=reason, directory=directory, wait=wait)
    _emit(as_json, {"file": file, "checksum": checksum, "reason": reason},
          f"accepted the edit of {file} ({checksum[:12]}); nothing was run" if checksum else
          f"nothing to accept: {file} is as recorded in the history (unchanged, or its edit "
          "was accepted already)")


@main.command()
@database_command
@click.option("--through", required=True, metavar="FILE", help="Last file to mark as applied.")
@click.option("--force", is_flag=True, help="Even if the database already has history.")
def baseline(dsn: str | None, directory: Path | None, as_json: bool, wait: float,
             through: str, force: bool) -> None:
    """Mark every file up to --through FILE as applied without running it.

    For adopting a database built before storedb managed it.
    """
    from .runner import baseline as run_baseline

    names = run_baseline(dsn, through=through, directory=directory, force=force, wait=wait)
    _emit(as_json, {"recorded": names},
          "\n".join(f"recorded {n} (not run)" for n in names) or "nothing to record")


@main.command()
@database_command
@click.option("--force", is_flag=True, help="Seed even a database not marked for development.")
def seed(dsn: str | None, directory: Path | None, as_json: bool, wait: float,
         force: bool) -> None:
    """Load development data from seed/ (idempotent)."""
    from .runner import seed as run_seed

    names = run_seed(dsn, directory=directory, force=force, wait=wait)
    _emit(as_json, {"seeded": names}, "\n".join(f"seeded {n}" for n in names))


@main.group()
def local() -> None:
    """Manage the local development cluster under ./.storedb/."""


@local.command("url")
@quiet_option
@json_option
@click.option("--app", "app", is_flag=True, help="The application role's URL (subject to row "
              "level security) instead of the superuser's, which migrates.")
def local_url(as_json: bool, app: bool) -> None:
    """Print the local cluster's URL; starts the cluster (and says so) if it is not running."""
    from ._local import APP_USER, DBNAME, SUPERUSER

    cluster = _start_local()
    user = SUPERUSER
    if app:
        _local_app_role(cluster.dsn)
        user = APP_USER
    url = cluster.url(DBNAME, user)
    _emit(as_json, {"url": url, "dsn": cluster.dsn_for(DBNAME, user), "user": user}, url)


@main.command("app-role")
@click.argument("name")
@dsn_option
@json_option
@wait_option
@quiet_option
@click.option("--password-env", metavar="VAR",
              help="Set the password from environment variable VAR (never on the command line).")
@click.option("--password-stdin", is_flag=True,
              help="Set the password from the first line of standard input.")
def app_role(name: str, dsn: str | None, as_json: bool, wait: float, password_env: str | None,
             password_stdin: bool) -> None:
    """Create the application's login role NAME in storedb_app (idempotent).

    Run it as the migrating owner after migrate. The application then connects as
    NAME: row level security applies to it, unlike to the owner or a superuser.
    Without a password option the role can log in only where pg_hba.conf trusts it.
    """
    from .tenancy import create_app_role

    if password_env and password_stdin:
        raise UsageError("give the password one way: --password-env VAR or --password-stdin.")
    password = None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise UsageError(f"--password-env {password_env}: that environment variable is "
                             "not set (or empty).")
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input gave no password.")
    created = create_app_role(dsn, name, password=password, wait=wait)
    state = "created" if created else "exists"
    _emit(as_json, {"role": name, "state": state, "password_set": password is not None},
          f"role {name} {state}: a login member of storedb_app"
          + ("; password set" if password is not None else ""))


@local.command("status")
@quiet_option
@json_option
def local_status(as_json: bool) -> None:
    """Say whether the local cluster runs, and where."""
    from ._local import is_running, locate

    cluster = locate()
    if not (cluster.data / "PG_VERSION").exists():
        _emit(as_json, {"state": "absent", "home": str(cluster.home), "url": cluster.url()},
              f"no local cluster in {cluster.root} yet: any command without --dsn creates it")
        return
    state = "running" if is_running(cluster) else "stopped"
    _emit(as_json, {"state": state, "home": str(cluster.home), "url": cluster.url()},
          f"{state}: {cluster.home} ({cluster.url()})")


@local.command("stop")
@quiet_option
@json_option
def local_stop(as_json: bool) -> None:
    """Stop the local cluster (its data is kept)."""
    from ._local import stop

    stopped = stop()
    _emit(as_json, {"stopped": stopped}, "stopped" if stopped else "not running")
