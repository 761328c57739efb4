"""Splitting a SQL file into statements that can be located in the file.

PostgreSQL's own parser (through pglast) does the splitting, so comments,
quoted identifiers, standard and ``E''`` strings, dollar quotes with tags and
``BEGIN ATOMIC`` bodies are handled exactly as the server handles them, and
a syntax error is found, with its line and column, before anything runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import MigrationFileError
from ._files import MigrationFile


@dataclass(frozen=True)
class Statement:
    """One statement of a file: its text and where it starts (1-based line/column)."""

    index: int
    text: str
    offset: int
    line: int
    column: int

    @property
    def head(self) -> str:
        """The first lines, for error messages."""
        lines = self.text.strip().splitlines()
        shown = "\n".join(lines[:3])
        return shown + ("\n..." if len(lines) > 3 else "")


def position(text: str, offset: int) -> tuple[int, int]:
    """Line and column (both 1-based) of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# Statements PostgreSQL refuses inside a transaction block, and the
# transaction control that would break the runner's own transaction.
_NO_TRANSACTION = re.compile(
    r"""^(?:create\s+(?:unique\s+)?index\s+concurrently
        | drop\s+index\s+concurrently
        | reindex\b.*\bconcurrently
        | vacuum\b
        | (?:create|drop)\s+(?:database|tablespace)\b
        | alter\s+system\b
        | alter\s+table\b.*\bdetach\s+partition\b.*\bconcurrently
        )""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_TRANSACTION_CONTROL = re.compile(
    r"^(?:begin|start\s+transaction|commit|rollback|end|abort|savepoint|release)\b(?!\s+atomic)",
    re.IGNORECASE,
)
_COMMENTS = re.compile(r"/\*.*?\*/|--[^\n]*", re.DOTALL)


def needs_no_transaction(statement: str) -> bool:
    """True for statements PostgreSQL cannot run inside a transaction block."""
    return bool(_NO_TRANSACTION.match(_COMMENTS.sub(" ", statement[:400]).strip()))


def is_transaction_control(statement: str) -> bool:
    return bool(_TRANSACTION_CONTROL.match(_COMMENTS.sub(" ", statement[:200]).strip()))


def split(file: MigrationFile) -> list[Statement]:
    """Split and validate a file; raise :class:`MigrationFileError` with its location.

    Checks, before anything runs: the SQL parses, the file is not empty, it
    holds no psql meta-command and no transaction control, and statements that
    cannot run in a transaction appear only under ``-- storedb:no-transaction``.
    """
    from pglast import parser  # the parser is only needed when something will run

    text = file.text
    try:
        slices = parser.split(text, with_parser=True, only_slices=True)
    except parser.ParseError as exc:
        message, offset = exc.args[0], exc.args[1] if len(exc.args) > 1 else None
        message = " ".join(message.split())
        if offset is None:  # "at end of input": point just after the last character
            offset = len(text.rstrip())
        raise _parse_error(file, text, message, offset) from None
    statements = []
    for index, piece in enumerate(slices, start=1):
        line, column = position(text, piece.start)
        statements.append(Statement(index, text[piece], piece.start, line, column))
    if not statements:
        raise MigrationFileError(
            f"{file.name}: the file holds no SQL statement (only comments or blank lines). "
            "Write the migration, or delete the file if it is not applied yet.",
            file=file.name, line=1, column=1)
    for stmt in statements:
        where = f"{file.name}:{stmt.line}:{stmt.column}"
        if is_transaction_control(stmt.text):
            raise MigrationFileError(
                f"{where}: statement {stmt.index} of {len(statements)} is transaction control "
                f"({stmt.head.split()[0].upper()}). storedb runs each file in its own transaction "
                "(or statement by statement under '-- storedb:no-transaction'): remove it.",
                file=file.name, line=stmt.line, column=stmt.column)
        if file.transactional and needs_no_transaction(stmt.text):
            raise MigrationFileError(
                f"{where}: statement {stmt.index} of {len(statements)} cannot run inside a "
                f"transaction:\n    {stmt.head}\nPut it in a file of its own whose header has the "
                "line '-- storedb:no-transaction' (see infra/db/README.md). Nothing was applied.",
                file=file.name, line=stmt.line, column=stmt.column)
    return statements


def _parse_error(file: MigrationFile, text: str, message: str, offset: int) -> MigrationFileError:
    line, column = position(text, offset)
    where = f"{file.name}:{line}:{column}"
    source_line = text.splitlines()[line - 1] if text.splitlines() else ""
    pointer = f"\n    {source_line}\n    {' ' * (column - 1)}^"
    if text[offset:offset + 1] == "\\":
        command = text[offset:].split(None, 1)[0]
        return MigrationFileError(
            f"{where}: {command} is a psql meta-command; storedb runs plain SQL, not psql "
            f"scripts.{pointer}\nInline the SQL it would run (or make it a migration of its own).",
            file=file.name, line=line, column=column)
    remedy = ""
    if "unterminated" in message:
        remedy = "\nClose the quote or comment that starts here."
    return MigrationFileError(f"{where}: syntax error: {message}{pointer}{remedy}\nNothing was "
                              "applied.", file=file.name, line=line, column=column)
