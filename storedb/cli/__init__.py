"""The command line: a thin shell over the library.

Each command calls one library function and prints its result; every
:class:`storedb.Error` is turned into a message and an exit code in one place
(:class:`_Group`).  Exit codes: 0 ok, 1 failure or refusal, 2 usage error,
3 ``check`` found work or ``lint`` found problems.
"""

from __future__ import annotations

# Each module adds its commands to ``main``; importing them here registers them.
from . import _author, _inspect, _local_commands, _migrate, _tenants  # noqa: F401
from ._group import main

__all__ = ["main"]
