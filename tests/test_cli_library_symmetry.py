"""Each CLI command's options are its library function's parameters (the CLI mirrors the
library): anything one can do, the other can, under the same name."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

import storedb
from storedb.cli import main

#: command -> the library function it calls
COMMANDS: dict[str, Callable[..., Any]] = {
    "migrate": storedb.migrate, "status": storedb.status, "check": storedb.check,
    "diff": storedb.diff, "accept": storedb.accept, "baseline": storedb.baseline,
    "seed": storedb.seed, "app-role": storedb.create_app_role,
}

#: options only the shell has: how output looks, several databases, how secrets arrive
CLI_ONLY = {"as_json", "quiet", "verbose", "dsn_file", "jobs", "password_env", "password_stdin",
            "lint_first"}  # lint_first: the CLI runs storedb.lint() before migrate()

#: the CLI's name for a library parameter
RENAMED = {"dsn": "db", "show_sql": "sql", "file": "file", "name": "name"}

#: library parameters a shell cannot pass (callables) or that have a CLI default elsewhere
LIBRARY_ONLY = {"on_applied", "on_progress", "progress_interval", "password", "lock_timeout"}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_options_match_library_parameters(command: str) -> None:
    cli = {RENAMED.get(p.name or "", p.name) for p in main.commands[command].params
           if p.name not in CLI_ONLY}
    library = set(inspect.signature(COMMANDS[command]).parameters)
    assert cli - library == set(), f"{command}: CLI options the library lacks"
    missing = library - cli - LIBRARY_ONLY
    assert missing == set(), f"{command}: library parameters the CLI lacks"
