"""The commands that write: a new migration file, accepted edits, a baseline, seed data."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from ..errors import UsageError
from ._group import main
from ._options import database_command, dir_option, emit, json_option, quiet_option


@main.command()
@click.argument("name")
@quiet_option
@dir_option
@json_option
def new(name: str, directory: Path | None, as_json: bool) -> None:
    """Create migrations/NNN_NAME.sql with the next free number and a header template."""
    from ..runner._files import next_migration_name, resolve_directory
    from ..runner._template import header

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
    emit(as_json, {"created": str(path)}, str(path))

@main.command()
@database_command
@click.argument("file")
@click.option("--reason", required=True, help="Why the edit is safe; kept in the history.")
def accept(dsn: str | None, directory: Path | None, as_json: bool, wait: float, file: str,
           reason: str) -> None:
    """Record a deliberate edit of an applied FILE (nothing is re-run)."""
    from ..runner import accept as run_accept

    checksum = run_accept(dsn, file, reason=reason, directory=directory, wait=wait)
    emit(as_json, {"file": file, "checksum": checksum, "reason": reason},
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
    from ..runner import baseline as run_baseline

    names = run_baseline(dsn, through=through, directory=directory, force=force, wait=wait)
    emit(as_json, {"recorded": names},
          "\n".join(f"recorded {n} (not run)" for n in names) or "nothing to record")


@main.command()
@database_command
@click.option("--force", is_flag=True, help="Seed even a database not marked for development.")
def seed(dsn: str | None, directory: Path | None, as_json: bool, wait: float,
         force: bool) -> None:
    """Load development data from seed/ (idempotent)."""
    from ..runner import seed as run_seed

    names = run_seed(dsn, directory=directory, force=force, wait=wait)
    emit(as_json, {"seeded": names}, "\n".join(f"seeded {n}" for n in names))
