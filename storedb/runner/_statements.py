"""Splitting a SQL file into statements that can be located in the file.

PostgreSQL's own parser (through pglast) finds the statements, so comments,
quoted identifiers, standard and ``E''`` strings, dollar quotes with tags and
``BEGIN ATOMIC`` bodies are handled exactly as the server handles them, and
a syntax error is found, with its line and column, before anything runs.
Nothing is rewritten: what runs is the file's own text, separators included
(see ``_apply``); the statements found here only say where each one starts,
so results and errors can be mapped back to FILE:LINE:COL.

Everything is linear in the file's size: positions come from a table of
line starts (bisect), and non-ASCII text is split through an ASCII stand-in
of the same byte layout, since pglast's own mapping of byte offsets to
characters rescans the text for every statement.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ..errors import MigrationFileError
from ._files import MigrationFile

#: What ``storedb new`` writes and nobody has filled in yet (see ``_template``).
TEMPLATE_MARK = "<what this migration does and why>"


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a file: its text and where it starts (1-based line/column).

    ``text`` runs from the statement's first token to the end of its last
    token or comment before the ``;`` (trailing white space dropped);
    ``offset`` is its first character in the file's text.
    """

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

    @property
    def end(self) -> int:
        return self.offset + len(self.text)


class Lines:
    """Line and column of any offset in a text, in O(log lines) after one pass."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        find, i = text.find, text.find("\n")
        while i >= 0:
            self.starts.append(i + 1)
            i = find("\n", i + 1)

    def position(self, offset: int) -> tuple[int, int]:
        """Line and column (both 1-based) of a character offset."""
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


def position(text: str, offset: int) -> tuple[int, int]:
    """Line and column (both 1-based) of one offset; use :class:`Lines` for many."""
    return Lines(text).position(offset)


# Statements PostgreSQL refuses inside a transaction block, and the
# transaction control that would break the runner's own transaction.
_NO_TRANSACTION = re.compile(
    r"""^(?:create\s+(?:unique\s+)?index\s+concurrently\b
        | drop\s+index\s+concurrently\b
        | reindex\b.*\bconcurrently\b
        | vacuum\b
        | (?:create|drop)\s+(?:database|tablespace)\b
        | alter\s+system\b
        | alter\s+table\b.*\bdetach\s+partition\b.*\bconcurrently\b
        )""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_TRANSACTION_CONTROL = re.compile(
    r"^(?:begin|start\s+transaction|commit|rollback|end|abort|savepoint|release"
    r"|prepare\s+transaction)\b(?!\s+atomic)",
    re.IGNORECASE,
)
_TWO_PHASE = re.compile(r"^(?:prepare\s+transaction|commit\s+prepared|rollback\s+prepared)\b",
                        re.IGNORECASE)
_COMMENTS = re.compile(r"/\*.*?\*/|--[^\n]*", re.DOTALL)
_COPY = re.compile(r"^copy\b", re.IGNORECASE)
_SCS_SET = re.compile(
    r"^set\s+(?:session\s+|local\s+)?standard_conforming_strings\s*(?:=|\bto\b)\s*(.*)$",
    re.IGNORECASE | re.DOTALL)
_SCS_CALL = re.compile(r"set_config\s*\(\s*'standard_conforming_strings'\s*,\s*'([^']*)'",
                       re.IGNORECASE)
#: Cheap tests that let :func:`_refuse` pass most statements without a regex.
_CONTROL = frozenset({"begin", "start", "commit", "rollback", "end", "abort", "savepoint",
                      "release", "prepare"})
_NO_TRANSACTION_WORDS = frozenset({"create", "drop", "reindex", "vacuum", "alter"})
_NO_TRANSACTION_HINTS = ("concurrently", "vacuum", "database", "tablespace", "system")
_ON = frozenset({"on", "true", "yes", "1", "t", "tr", "tru", "y", "ye", "default"})


def _bare(statement: str, limit: int) -> str:
    head = statement[:limit]
    if "--" in head or "/*" in head:
        head = _COMMENTS.sub(" ", head)
    return head.strip()


def needs_no_transaction(statement: str) -> bool:
    """True for statements PostgreSQL cannot run inside a transaction block."""
    return bool(_NO_TRANSACTION.match(_bare(statement, 400)))


def is_transaction_control(statement: str) -> bool:
    return bool(_TRANSACTION_CONTROL.match(_bare(statement, 200)))


def turns_off_standard_strings(statement: str) -> bool:
    """Whether a statement sets standard_conforming_strings to anything but on.

    PostgreSQL reads a whole message with the setting it had when the message
    arrived, while psql re-reads later statements of the file with the new
    one: storedb could not run such a file as psql does.
    """
    if "standard_conforming_strings" not in statement.lower():
        return False
    match = _SCS_SET.match(_bare(statement, 400))
    if match and match.group(1).strip().strip("'\"").lower() not in _ON:
        return True
    return any(v.strip().lower() not in _ON for v in _SCS_CALL.findall(statement))


def copy_with_inline_data(statement: str) -> str | None:
    """'FROM STDIN' or 'TO STDOUT' when the statement copies through psql's own streams."""
    if not _COPY.match(_bare(statement, 200)):
        return None
    from pglast import ast, parser

    try:
        tree = parser.parse_sql(statement)
    except parser.ParseError:
        return None
    node = tree[0].stmt if tree else None
    if isinstance(node, ast.CopyStmt) and node.filename is None and not node.is_program:
        return "FROM STDIN" if node.is_from else "TO STDOUT"
    return None


def boundaries(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of every statement, from PostgreSQL's parser.

    ``start`` is the statement's first token; ``end`` follows its last token
    or comment before the ``;``.  Raises pglast's ``ParseError`` (with a
    character offset) for a syntax error.
    """
    from pglast import parser

    if text.isascii():
        return [(s.start, s.stop) for s in parser.split(text, with_parser=True, only_slices=True)]
    data = text.encode("utf-8")
    # Every non-ASCII byte becomes "_" (a letter to the lexer, never a keyword nor white
    # space): the stand-in splits exactly like the text, at the same byte offsets.
    stand_in = data.translate(_TO_ASCII).decode("ascii")
    try:
        found = parser.split(stand_in, with_parser=True, only_slices=True)
    except parser.ParseError:
        parser.split(text, with_parser=True, only_slices=True)  # the error with real names
        raise
    out, chars, done = [], 0, 0
    for piece in found:
        for byte in (piece.start, piece.stop):
            chars += len(data[done:byte].decode("utf-8"))
            done = byte
            out.append(chars)
    return list(zip(out[::2], out[1::2], strict=True))


_TO_ASCII = bytes(range(128)) + b"_" * 128


def terminated(text: str, end: int) -> bool:
    """Whether a ``;`` follows offset ``end`` (after white space and comments)."""
    return text[_skip_blank(text, end):][:1] == ";"


def _skip_blank(text: str, i: int) -> int:
    """The first offset from ``i`` that is neither white space nor a comment."""
    n = len(text)
    while i < n:
        if text[i] in " \t\r\n\f\v":
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):  # nested, as PostgreSQL's comments are
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        else:
            break
    return i


def split(file: MigrationFile) -> list[Statement]:
    """Split and validate a file; raise :class:`MigrationFileError` with its location.

    Checks, before anything runs: the SQL parses, it holds no NUL byte, no
    psql meta-command or inline COPY data, no transaction control (two-phase
    commit included) and nothing that turns standard_conforming_strings off,
    and statements that cannot run in a transaction appear only under
    ``-- storedb:no-transaction``.  A file of comments only gives no
    statements (it runs as a no-op, as in psql), unless it is still the
    untouched template of ``storedb new``.
    """
    from pglast import parser  # the parser is only needed when something will run

    text = file.text
    lines = Lines(text)
    nul = text.find("\0")
    if nul >= 0:
        line, column = lines.position(nul)
        raise MigrationFileError(
            f"{file.name}:{line}:{column}: the file holds a NUL byte (0x00), which PostgreSQL "
            "cannot receive in SQL text (psql and the server would stop reading there). "
            "Remove it (a text editor or `tr -d '\\000'`).",
            file=file.name, line=line, column=column)
    try:
        spans = boundaries(text)
    except parser.ParseError as exc:
        message, offset = exc.args[0], exc.args[1] if len(exc.args) > 1 else None
        if offset is None:  # "at end of input": point just after the last character
            offset = len(text.rstrip())
        raise _parse_error(file, text, lines, " ".join(message.split()), offset) from None
    statements = []
    for index, (start, end) in enumerate(spans, start=1):
        start = _skip_blank(text, start)
        line, column = lines.position(start)
        statements.append(Statement(index, text[start:end].rstrip(), start, line, column))
    if not statements and TEMPLATE_MARK in text:
        raise MigrationFileError(
            f"{file.name}: the file is still the template 'storedb new' wrote: it holds no SQL "
            "statement. Write the migration, or delete the file if it is not applied yet.",
            file=file.name, line=1, column=1)
    for stmt in statements:
        _refuse(file, stmt, len(statements))
    return statements


def _refuse(file: MigrationFile, stmt: Statement, total: int) -> None:
    """Raise for a statement storedb cannot run as psql would, naming the remedy."""
    bare = _bare(stmt.text, 400)  # once: this runs for every statement of every file
    low = bare.lower()
    first = low[:20].split(None, 1)[0] if low else ""
    if first not in _CONTROL and first != "copy" and not (
            first in _NO_TRANSACTION_WORDS and any(w in low for w in _NO_TRANSACTION_HINTS)) \
            and "standard_conforming_strings" not in stmt.text:
        return  # create table, insert, comment on, ...: the common case, decided at once
    where = f"{file.name}:{stmt.line}:{stmt.column}"
    which = f"statement {stmt.index} of {total}"
    problem = None
    if _TWO_PHASE.match(bare):
        problem = (f"{which} is two-phase commit ({' '.join(stmt.head.split()[:2]).upper()}). "
                   "A prepared transaction would hold the file's work outside storedb's "
                   "transaction while the history says it is applied: remove it.")
    elif _TRANSACTION_CONTROL.match(bare):
        problem = (f"{which} is transaction control ({stmt.head.split()[0].upper()}). storedb "
                   "runs each file in its own transaction (or statement by statement under "
                   "'-- storedb:no-transaction'): remove it.")
    elif file.transactional and _NO_TRANSACTION.match(bare):
        problem = (f"{which} cannot run inside a transaction:\n    {stmt.head}\nPut it in a file "
                   "of its own whose header has the line '-- storedb:no-transaction' (see "
                   "infra/db/README.md). Nothing was applied.")
    elif _COPY.match(bare) and (stream := copy_with_inline_data(stmt.text)) is not None:
        problem = (f"{which} is COPY ... {stream}, which psql feeds from the lines of the file "
                   "(or prints); storedb runs plain SQL and has no such stream. Turn the data "
                   "into INSERT ... VALUES statements (pg_dump --inserts writes them), or COPY "
                   "from a file on the server.")
    elif turns_off_standard_strings(stmt.text):
        problem = (f"{which} turns standard_conforming_strings off, which changes how the "
                   "file's later string literals are read; storedb sends the file as one "
                   "message and could not run it as psql does. Remove it and write backslash "
                   "escapes as E'...' strings.")
    if problem:
        raise MigrationFileError(f"{where}: {problem}", file=file.name, line=stmt.line,
                                 column=stmt.column)


def _parse_error(file: MigrationFile, text: str, lines: Lines, message: str, offset: int
                 ) -> MigrationFileError:
    line, column = lines.position(offset)
    where = f"{file.name}:{line}:{column}"
    start = lines.starts[line - 1]
    source_line = text[start:text.find("\n", start) if "\n" in text[start:] else len(text)]
    pointer = f"\n    {source_line.rstrip()}\n    {' ' * (column - 1)}^"
    if text[offset:offset + 1] == "\\":
        command = text[offset:].split(None, 1)[0]
        if command == "\\." or _after_copy_from_stdin(text, offset):
            return MigrationFileError(
                f"{where}: inline COPY data (the lines after COPY ... FROM STDIN) is a psql "
                f"feature; storedb runs plain SQL.{pointer}\nTurn the data into INSERT ... "
                "VALUES statements (pg_dump --inserts writes them). Nothing was applied.",
                file=file.name, line=line, column=column)
        return MigrationFileError(
            f"{where}: {command} is a psql meta-command; storedb runs plain SQL, not psql "
            f"scripts.{pointer}\nInline the SQL it would run (or make it a migration of its own).",
            file=file.name, line=line, column=column)
    if _after_copy_from_stdin(text, offset):
        return MigrationFileError(
            f"{where}: syntax error: {message}, in what looks like inline COPY data: COPY ... "
            f"FROM STDIN with its data in the file is a psql feature; storedb runs plain SQL."
            f"{pointer}\nTurn the data into INSERT ... VALUES statements (pg_dump --inserts "
            "writes them). Nothing was applied.", file=file.name, line=line, column=column)
    remedy = ""
    if "unterminated" in message:
        remedy = "\nClose the quote or comment that starts here."
    return MigrationFileError(f"{where}: syntax error: {message}{pointer}{remedy}\nNothing was "
                              "applied.", file=file.name, line=line, column=column)


def _after_copy_from_stdin(text: str, offset: int) -> bool:
    """Whether a COPY ... FROM STDIN comes before ``offset``: what follows it is psql's data."""
    return bool(_COPY_STDIN.search(text, 0, offset))


_COPY_STDIN = re.compile(r"^[ \t]*copy\b[^;]*\bfrom\s+stdin\b", re.IGNORECASE | re.MULTILINE)
