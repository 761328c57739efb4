"""Options shared by the commands, one decorator each (as sqlite-utils does).

A command lists the options it takes, and its parameters match the library
function it calls.  Also the output helper every command prints through.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import UsageError
from ._group import SECONDS
from ._local_cluster import local_default

F = TypeVar("F", bound=Callable[..., Any])


def _setup_logging(quiet: bool, verbose: bool = False) -> None:
    log = logging.getLogger("storedb")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("storedb: %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)

def dsn_option(func: F) -> F:
    """One database: --dsn, else $DATABASE_URL / PG*, else the local cluster."""

    @click.option("--dsn", "dsn", metavar="DSN",
                  help="Database URL or conninfo. Default: $DATABASE_URL, else libpq's PG* "
                  "variables, else the local cluster (started if needed).")
    @functools.wraps(func)
    def wrapper(*args: Any, dsn: str | None, **kwargs: Any) -> Any:
        return func(*args, dsn=local_default(dsn), **kwargs)

    return wrapper  # type: ignore[return-value]


def lazy_dsn_option(func: F) -> F:
    """One database, only when the command needs one: --dsn as given (None if absent).

    The command calls :func:`local_default` itself when it turns out to need a
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


def emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    if as_json:
        click.echo(json.dumps(payload, default=str))
    elif text:
        click.echo(text)
