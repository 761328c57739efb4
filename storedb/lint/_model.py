"""What lint knows while it reads the files: the schema so far, and the current file.

:class:`Catalog` is the schema as the files before the current statement
leave it (which tables carry ``store_id``, which NOT NULL checks are
validated, which SECURITY DEFINER functions pin their search_path).  It is
built from every file of the directory in order, applied or not, so a rule on
file 9 knows that ``products`` (file 1) is a tenant table.  :class:`FileState`
is what one file did so far: the rules' notion of an *existing* table is one
not created earlier in the same file.

Helpers to read pglast's nodes live here too, so the rules read as rules.
"""

from __future__ import annotations

import bisect
import copy
from dataclasses import dataclass, field
from typing import Any

from ..runner._files import MigrationFile
from ..runner._statements import Statement
from ._result import Finding, finding
from ._tree import Node, is_

#: A comment on an index carrying this marker makes it global on purpose
#: (the same marker ``check --tenancy`` honours).
GLOBAL_MARKER = "storedb:global-unique"


def relname(node: Any) -> str:
    """The unqualified name of a RangeVar (schemas are not modelled)."""
    return str(node.relname) if node is not None else ""


def last_name(names: Any) -> str:
    """The last element of a dotted name list (String nodes, or a list of them)."""
    if is_(names, "List"):
        names = names.items
    if not names:
        return ""
    item = names[-1]
    return str(getattr(item, "sval", item))


def type_name(node: Any) -> str:
    return last_name(node.names) if node is not None else ""


def constraints(column: Any) -> list[Any]:
    return list(column.constraints or ())


def key_columns(constraint: Any) -> list[str]:
    return [str(k.sval) for k in constraint.keys or ()]


def not_null_check_column(constraint: Any) -> str | None:
    """``col`` for ``check (col is not null)``, else None."""
    expr = constraint.raw_expr
    if is_(expr, "NullTest") and expr.nulltesttype == "IS_NOT_NULL":
        arg = expr.arg
        if is_(arg, "ColumnRef") and len(arg.fields or ()) == 1:
            return last_name(arg.fields)
    return None


def search_path_of(options: Any) -> list[str] | None:
    """The ``set search_path = ...`` list among a function's options, or None."""
    for option in options or ():
        arg = option.arg
        if option.defname == "set" and is_(arg, "VariableSetStmt") \
                and arg.name == "search_path":
            return [str(a.sval.sval if a.sval else "") for a in arg.args or ()] \
                if arg.kind == "VAR_SET_VALUE" else ["<from current>"]
    return None


def security_definer(options: Any) -> bool | None:
    for option in options or ():
        if option.defname == "security":
            return bool(option.arg.boolval)
    return None


@dataclass
class Table:
    columns: set[str]
    file: str

    @property
    def tenant(self) -> bool:
        return "store_id" in self.columns


@dataclass
class Catalog:
    """The schema as the statements read so far leave it (as far as the rules need)."""

    tables: dict[str, Table] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)  # index -> table
    not_null_checks: dict[str, tuple[str, str]] = field(default_factory=dict)
    validated: set[tuple[str, str]] = field(default_factory=set)  # (table, column)
    pinned: dict[str, bool] = field(default_factory=dict)  # function -> search_path pinned

    def tenant(self, table: str) -> bool:
        known = self.tables.get(table)
        return known is not None and known.tenant

    def apply(self, node: Node, file: str) -> None:
        """Record what a statement changes in the schema."""
        tag = node.tag
        if tag == "CreateStmt":
            columns = {str(e.colname) for e in node.tableElts or () if is_(e, "ColumnDef")}
            self.tables[relname(node.relation)] = Table(columns, file)
            for element in node.tableElts or ():
                if is_(element, "Constraint"):
                    self._constraint(relname(node.relation), element)
        elif tag == "AlterTableStmt":
            self._alter(relname(node.relation), node)
        elif tag == "IndexStmt" and node.idxname:
            self.indexes[str(node.idxname)] = relname(node.relation)
        elif tag == "RenameStmt" and node.renameType == "OBJECT_TABLE":
            table = self.tables.pop(relname(node.relation), None)
            if table is not None:
                self.tables[str(node.newname)] = table
        elif tag == "RenameStmt" and node.renameType == "OBJECT_COLUMN":
            table = self.tables.get(relname(node.relation))
            if table is not None:
                table.columns.discard(str(node.subname))
                table.columns.add(str(node.newname))
        elif tag == "DropStmt" and node.removeType == "OBJECT_TABLE":
            for name in node.objects or ():
                self.tables.pop(last_name(name), None)
        elif tag == "CreateFunctionStmt":
            path = search_path_of(node.options)
            self.pinned[last_name(node.funcname)] = pinned(path)
        elif tag == "AlterFunctionStmt":
            path = search_path_of(node.actions)
            func: Any = node.func
            if path is not None:
                self.pinned[last_name(func.objname)] = pinned(path)

    def _alter(self, name: str, node: Node) -> None:
        table = self.tables.get(name)
        for cmd in node.cmds or ():
            if cmd.subtype == "AT_AddColumn" and table is not None:
                table.columns.add(str(cmd.def_.colname))
            elif cmd.subtype == "AT_DropColumn" and table is not None:
                table.columns.discard(str(cmd.name))
            elif cmd.subtype == "AT_AddConstraint":
                self._constraint(name, cmd.def_)
            elif cmd.subtype == "AT_ValidateConstraint":
                known = self.not_null_checks.get(str(cmd.name))
                if known is not None:
                    self.validated.add(known)

    def _constraint(self, table: str, constraint: Any) -> None:
        if constraint.contype != "CONSTR_CHECK":
            return
        column = not_null_check_column(constraint)
        if column is None:
            return
        if constraint.skip_validation:
            self.not_null_checks[str(constraint.conname or "")] = (table, column)
        else:
            self.validated.add((table, column))


def pinned(path: list[str] | None) -> bool:
    """A search_path is pinned when it is set and ends with pg_temp (searched last)."""
    return bool(path) and path is not None and path[-1] == "pg_temp"


@dataclass
class FileState:
    """One file being linted: what it did so far, and where its findings go."""

    file: MigrationFile
    catalog: Catalog
    findings: list[Finding] = field(default_factory=list)
    created: set[str] = field(default_factory=set)  # tables created in this file
    created_indexes: set[str] = field(default_factory=set)
    dropped_if_exists: set[str] = field(default_factory=set)  # drop index concurrently if exists
    not_valid: set[str] = field(default_factory=set)  # constraints added NOT VALID here
    rls: dict[str, set[str]] = field(default_factory=dict)  # table -> {enable, force, policy}
    global_indexes: set[str] = field(default_factory=set)
    deferred: list[tuple[str, Finding]] = field(default_factory=list)  # index -> finding
    new_tenant_tables: list[tuple[str, Finding]] = field(default_factory=list)
    renamed: list[tuple[str, Finding]] = field(default_factory=list)  # old name -> finding
    statement: Statement | None = None
    _starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        text = self.file.text
        starts = [0]
        at = text.find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = text.find("\n", at + 1)
        self._starts = starts

    def existing(self, table: str) -> bool:
        """Existed before this file (the rules' definition): not created earlier in it."""
        return table not in self.created

    def position(self, location: int | None = None) -> tuple[int, int]:
        """Line and column of a node (``location``: its byte offset in the file), else the
        statement's."""
        stmt = self.statement
        assert stmt is not None
        if location is None or location < 0:
            return stmt.line, stmt.column
        offset = location
        if not self.file.text.isascii():
            offset = len(self.file.data[:location].decode("utf-8", "ignore"))
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def make(self, rule: str, message: str, fix: str | None = None,
             location: int | None = None) -> Finding:
        line, column = self.position(location)
        index = self.statement.index if self.statement else 0
        return finding(rule, self.file.name, line, column, message, fix, statement=index)

    def add(self, rule: str, message: str, fix: str | None = None,
            location: int | None = None) -> None:
        self.findings.append(self.make(rule, message, fix, location))

    def render(self, cmd: int | None = None, **changes: Any) -> str:
        """The current statement (or its ``cmd``-th ALTER TABLE clause) with some fields
        changed, as SQL: a safe rewrite spelled out exactly.  Only called for a finding."""
        from pglast import parse_sql
        from pglast.stream import RawStream

        assert self.statement is not None
        node: Any = parse_sql(self.statement.text)[0].stmt
        if cmd is not None:
            node = node.cmds[cmd].def_
        clone = copy.copy(node)
        for name, value in changes.items():
            setattr(clone, name, value)
        return str(RawStream()(clone))
