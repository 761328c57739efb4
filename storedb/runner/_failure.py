"""What a DBA reads when a file fails: FILE:LINE:COL, every server field, and what to do.

Three separate pieces: :func:`describe` builds the message from plain
values (no database), :data:`ADVICE` chooses the advice by SQLSTATE, and
:func:`lock_holders` asks the server who holds the locks a timed-out
statement waited for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConnectError, MigrationFailed
from ._files import MigrationFile
from ._statements import Lines, Statement

if TYPE_CHECKING:
    import psycopg
    from psycopg.pq.abc import PGresult

_BASELINE = ("If this database was built before storedb managed it, record what it already has "
             "with 'storedb baseline --through FILE' instead of re-running.")

#: Advice chosen by SQLSTATE, after the server's own fields.
ADVICE: dict[str, str] = {
    "25001": "This statement cannot run inside a transaction: put it in a file of its own whose "
             "header has the line '-- storedb:no-transaction'.",
    "42P07": _BASELINE,  # duplicate table
    "42710": _BASELINE,  # duplicate object
    "42723": _BASELINE,  # duplicate function
}

#: Failures that running again can cure: lock waits, serialization conflicts, a cancel.
TRANSIENT = frozenset({"55P03", "40001", "40P01", "57014"})
#: The server or the network went away: the connection is lost, not the file wrong.
LOST = ("08", "57P01", "57P02", "57P03")


@dataclass(frozen=True)
class ServerError:
    """The fields of a PostgreSQL error, whether it came as a result or as an exception."""

    message: str
    sqlstate: str | None = None
    detail: str | None = None
    hint: str | None = None
    context: str | None = None
    position: int | None = None  # 1-based, in characters of the message that was sent

    @classmethod
    def of(cls, error: psycopg.Error | PGresult, encoding: str = "utf-8") -> ServerError:
        import psycopg

        exc = error if isinstance(error, psycopg.Error) else \
            psycopg.errors.error_from_result(error, encoding=encoding)
        diag = exc.diag
        position = diag.statement_position
        return cls(message=diag.message_primary or " ".join(str(exc).split()) or
                   type(exc).__name__, sqlstate=diag.sqlstate, detail=diag.message_detail,
                   hint=diag.message_hint, context=diag.context,
                   position=int(position) if position else None)

    @property
    def connection_lost(self) -> bool:
        return self.sqlstate is not None and self.sqlstate.startswith(LOST)


def failing_statement(statements: Sequence[Statement], offset: int) -> int:
    """The index of the statement holding character ``offset`` of the file."""
    index = 0
    for i, stmt in enumerate(statements):  # statements are few next to the file's bytes
        if stmt.offset > offset:
            break
        index = i
    return index


_DOLLAR_QUOTED = re.compile(r"\$([A-Za-z_]\w*|)\$.*?\$\1\$", re.S)


def older_grammar(server_version: int, statement: str, offset: int) -> str | None:
    """Why a server rejects syntax that storedb's own parse accepted, if that is why.

    storedb checks files with the newest grammar it knows (pglast's); an older
    server rejects syntax it does not have yet.  A syntax error inside a
    dollar-quoted body (PL/pgSQL, which storedb does not parse) is the file's own.
    """
    from pglast import parser

    from .._connection import readable_version

    grammar = parser.get_postgresql_version()[0]
    major = server_version // 10000
    if major >= grammar or any(m.start() < offset < m.end()
                               for m in _DOLLAR_QUOTED.finditer(statement)):
        return None
    return (f"storedb checked this file with the PostgreSQL {grammar} grammar, but the server "
            f"runs PostgreSQL {readable_version(server_version)}: the statement uses syntax that "
            f"PostgreSQL {major} does not have yet. Write it for the oldest server you deploy "
            "to, or upgrade that server.")


def describe(file: MigrationFile, statements: Sequence[Statement], failed: int,
             error: ServerError, *, offset: int | None = None, committed: int = 0,
             extra: str | None = None) -> MigrationFailed:
    """The failure of statement ``failed`` (0-based; ``len(statements)``: its history row).

    ``offset`` is where in the file the server placed the error, when it did.
    """
    total = len(statements)
    if failed >= total:  # the statements ran; recording the history row failed
        where, line, column = f"{file.name} (recording it in the history)", 1, 1
        if statements:
            line, column = statements[-1].line, statements[-1].column
        stmt = None
    else:
        stmt = statements[failed]
        line, column = Lines(file.text).position(stmt.offset if offset is None else offset)
        where = f"{file.name}:{line}:{column}"
    parts = [f"{where}: {error.message}"
             + (f" [SQLSTATE {error.sqlstate}]" if error.sqlstate else "")]
    for label, value in (("DETAIL", error.detail), ("HINT", error.hint),
                         ("CONTEXT", error.context)):
        if value:
            parts.append(f"{label}: {value}")
    if stmt is not None:
        parts.append(f"in statement {failed + 1} of {total} (line {stmt.line}):\n    "
                     + stmt.head.replace("\n", "\n    "))
    if extra:
        parts.append(extra)
    if error.sqlstate in ADVICE:
        parts.append(ADVICE[error.sqlstate])
    parts.append(_what_stays(file, total, committed, transient=error.sqlstate in TRANSIENT))
    return MigrationFailed(
        "\n".join(parts), file=file.name, line=line, column=column,
        statement_index=min(failed + 1, total), statement_count=total,
        sqlstate=error.sqlstate, pg_message=error.message, detail=error.detail,
        hint=error.hint, context=error.context, committed_statements=committed)


def _what_stays(file: MigrationFile, total: int, committed: int, *, transient: bool) -> str:
    if file.transactional:
        return (f"Nothing of {file.name} was kept (its transaction was rolled back); files "
                "before it stay applied." + ("" if transient else
                                             " Fix the file and run migrate again."))
    if committed:
        kept = f"statement 1 of {total} was" if committed == 1 else \
            f"statements 1-{committed} of {total} were"
        return (f"{file.name} runs without a transaction: {kept} committed and stay; statement "
                f"{committed + 1} and later did not run. The file is still pending: make it safe "
                "to re-run (IF NOT EXISTS ...) and run migrate again.")
    return (f"{file.name} runs without a transaction; no statement of it was committed. The "
            "file is still pending.")


def lost(file: MigrationFile, statements: Sequence[Statement], done: int, message: str, *,
         earlier: int) -> ConnectError:
    """The connection died under a file (server crash, restart, network): not the file's fault."""
    total = len(statements)
    at = f"statement {done + 1} of {total}" if done < total else "its history row"
    kept = (f"nothing of {file.name} was kept" if file.transactional else
            f"statements 1-{done} of {file.name} were committed" if done else
            f"no statement of {file.name} was committed")
    parts = [f"lost the connection to the database while running {file.name} ({at}): "
             f"{' '.join(message.split())}", f"This is not an error in the file: {kept}."]
    if earlier:
        parts.append(f"The {earlier} file(s) applied before it in this run were committed "
                     "without waiting for the disk (only a run's last commit waits); if the "
                     "server crashed they may be lost, together with their history rows.")
    parts.append("Run migrate again once the server is back: the history says what is applied.")
    return ConnectError("\n".join(parts))


def relations_in(statement: str) -> list[str]:
    """Relation names a statement mentions, from PostgreSQL's parse tree."""
    from pglast import ast, parser
    from pglast.visitors import Visitor

    names: set[str] = set()

    class Relations(Visitor):
        def visit_RangeVar(self, ancestors: object, node: ast.RangeVar) -> None:
            names.add(f"{node.schemaname}.{node.relname}" if node.schemaname else
                      str(node.relname))

    try:
        Relations()(parser.parse_sql(statement))
    except parser.ParseError:
        return []
    return sorted(names) or [json.dumps(statement[:40])]


def lock_holders(conn: psycopg.Connection[Any], statement: str) -> str:
    """Which backends hold locks on the relations a timed-out statement needed."""
    names = relations_in(statement)
    rows = conn.execute(
        """select l.relation::regclass::text, l.mode, l.pid
           from pg_locks l
           where l.granted and l.locktype = 'relation' and l.pid <> pg_backend_pid()
             and l.relation in (select to_regclass(n) from unnest(%s::text[]) n)
           order by 1, 3""", (names,)).fetchall()
    if not rows:
        return (f"The lock wait on {', '.join(names)} timed out (--statement-lock-timeout); the "
                "holder has gone since. Run migrate again.")
    from .._connection import caller_pid
    from ._progress import holders  # what a non-superuser may not see is said, not "None"

    mine = caller_pid.get()
    described = holders(conn, sorted({r[2] for r in rows}))
    lines = [f"  {rel}: {mode} held by {described[pid]}"
             + (" <- the connection you passed to storedb: commit or roll back its transaction "
                "before migrating" if pid == mine else "")
             for rel, mode, pid in rows]
    return ("Waiting for a lock took longer than --statement-lock-timeout, so the migration gave "
            "up rather than block the application's queries behind it. Held by:\n"
            + "\n".join(lines)
            + "\nRun migrate again when that transaction has finished (or end it).")
