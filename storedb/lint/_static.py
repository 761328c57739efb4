"""The static rules: one pass over pglast's parse tree of each statement.

Every check looks at node types and fields, never at the SQL text, so
comments, quoting, casing and layout cannot hide a statement or fake one.
A table *existed before the file* unless the same file created it; that is
what keeps ``create table t (...); create index on t (...)`` quiet while
``create index on products (...)`` in a later file is flagged.
"""

from __future__ import annotations

from typing import Any

from . import _tenancy as tenancy
from ._model import FileState, constraints, last_name, relname, type_name
from ._tree import Node, calls, is_

#: Functions PostgreSQL marks VOLATILE that appear in column defaults: a new
#: column defaulting to one of them is computed row by row (a rewrite).
VOLATILE = frozenset({
    "random", "random_normal", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc",
    "uuid_generate_v4", "uuidv4", "uuidv7", "gen_random_bytes", "gen_salt", "clock_timestamp",
    "timeofday", "nextval", "setval", "currval", "lastval", "txid_current",
    "pg_current_xact_id", "setseed",
})
SERIAL = frozenset({"serial", "serial4", "smallserial", "serial2", "bigserial", "serial8"})
SMALL_INTS = frozenset({"int4", "int2", "serial", "serial4", "smallserial", "serial2"})
NO_REWRITE_TYPES = frozenset({"text", "varchar"})  # without a length: binary-coercible widening
_NO_TX = "in a file of its own headed '-- storedb:no-transaction'"


def check(state: FileState, node: Any) -> None:
    """Run every rule that applies to one statement (before the catalog records it)."""
    handler = _HANDLERS.get(node.tag)
    if handler is not None:
        handler(state, node)
    if not state.file.transactional:
        _no_transaction(state, node)


def _create_table(state: FileState, node: Node) -> None:
    table = relname(node.relation)
    keys = {c for e in node.tableElts or () if is_(e, "Constraint")
            and e.contype == "CONSTR_PRIMARY" for c in (str(k.sval) for k in e.keys or ())}
    for element in node.tableElts or ():
        if is_(element, "ColumnDef"):
            _column_types(state, table, element, primary=str(element.colname) in keys)
    state.created.add(table)
    tenancy.create_table(state, node)


def _column_types(state: FileState, table: str, column: Any, primary: bool) -> None:
    kind = type_name(column.typeName)
    name = str(column.colname)
    where = getattr(column, "location", None)
    if kind == "timestamp":
        state.add("timestamp-without-tz", f"{table}.{name} is timestamp without time zone",
                  f"{name} timestamptz", where)
    if kind in ("bpchar", "varchar") and column.typeName.typmods:
        shown = "char" if kind == "bpchar" else "varchar"
        state.add("char-length", f"{table}.{name} is {shown}(n)",
                  f"{name} text check (length({name}) <= n)", where)
    kinds = {c.contype for c in constraints(column)}
    is_key = primary or "CONSTR_PRIMARY" in kinds or "CONSTR_IDENTITY" in kinds
    if kind in SMALL_INTS and (is_key or kind in SERIAL):
        state.add("int-key", f"{table}.{name} is a {kind} key: it runs out at "
                  f"{'32767' if '2' in kind or 'small' in kind else '2147483647'}",
                  f"{name} bigint generated always as identity", where)


def _alter_table(state: FileState, node: Node) -> None:
    if node.objtype != "OBJECT_TABLE":
        return
    table = relname(node.relation)
    existing = state.existing(table)
    for number, cmd in enumerate(node.cmds or ()):
        sub = cmd.subtype
        if sub == "AT_AddColumn":
            _column_types(state, table, cmd.def_, primary=False)
            if existing:
                _add_column(state, table, cmd.def_)
        elif sub == "AT_AlterColumnType" and existing:
            target = type_name(cmd.def_.typeName)
            if target not in NO_REWRITE_TYPES or cmd.def_.typeName.typmods:
                state.add("alter-column-type", f"alter column {cmd.name} type {target} on "
                          f"existing table {table}: rewrites it under ACCESS EXCLUSIVE")
        elif sub == "AT_SetNotNull" and existing \
                and (table, str(cmd.name)) not in state.catalog.validated:
            state.add("set-not-null", f"set not null on {table}.{cmd.name} scans the table "
                      "under ACCESS EXCLUSIVE: no validated check (" f"{cmd.name} is not null)",
                      f"alter table {table} add constraint {table}_{cmd.name}_not_null check "
                      f"({cmd.name} is not null) not valid; -- then, in a later file: alter "
                      f"table {table} validate constraint {table}_{cmd.name}_not_null; alter "
                      f"table {table} alter column {cmd.name} set not null;")
        elif sub == "AT_AddConstraint":
            _add_constraint(state, table, cmd.def_, existing, number)
        elif sub == "AT_ValidateConstraint" and state.file.transactional \
                and str(cmd.name) in state.not_valid:
            state.add("validate-in-same-transaction", f"validate constraint {cmd.name} runs in "
                      "the transaction that added it: the ADD's lock is held during the scan",
                      f"alter table {table} validate constraint {cmd.name}; -- in a later file")
        elif sub == "AT_DropColumn" and existing:
            state.add("drop-column", f"drop column {cmd.name} of existing table {table} "
                      "destroys its data")
        elif sub in ("AT_SetLogged", "AT_SetUnLogged", "AT_SetTableSpace") and existing:
            state.add("table-rewrite", f"alter table {table} set logged/unlogged/tablespace "
                      "rewrites it under ACCESS EXCLUSIVE")
        tenancy.alter_table_cmd(state, table, cmd)


def _add_column(state: FileState, table: str, column: Any) -> None:
    name = str(column.colname)
    where = getattr(column, "location", None)
    kinds = {c.contype: c for c in constraints(column)}
    default = kinds.get("CONSTR_DEFAULT")
    volatile = _volatile(default.raw_expr) if default is not None else None
    generated = kinds.get("CONSTR_GENERATED")
    if volatile is None and type_name(column.typeName) in SERIAL:
        volatile = f"{type_name(column.typeName)} (nextval())"
    if volatile is None and "CONSTR_IDENTITY" in kinds:
        volatile = "an identity"
    if volatile is None and generated is not None:
        volatile = "a stored generated expression"
    if volatile is not None:
        state.add("volatile-default", f"add column {table}.{name} with {volatile} default "
                  "rewrites every row under ACCESS EXCLUSIVE",
                  f"alter table {table} add column {name} {type_name(column.typeName)}; then "
                  "set the default in a second statement and backfill in batches", where)
    not_null = column.is_not_null or "CONSTR_NOTNULL" in kinds
    if not_null and default is None and volatile is None:
        state.add("add-required-column", f"add column {table}.{name} not null without a "
                  "default fails on a table with rows",
                  f"alter table {table} add column {name} {type_name(column.typeName)}; "
                  "backfill; then set not null the safe way (check ... not valid, validate)",
                  where)
    for kind in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
        if kind in kinds:
            state.add("unique-without-index", f"add column {table}.{name} with a unique/primary"
                      " key builds its index under ACCESS EXCLUSIVE", location=where)


def _volatile(expr: Any) -> str | None:
    """The name of a volatile function the expression calls, if any."""
    return next((f"{name}()" for name in calls(expr) if name in VOLATILE), None)


def _add_constraint(state: FileState, table: str, constraint: Any, existing: bool,
                    cmd: int) -> None:
    kind = constraint.contype
    where = getattr(constraint, "location", None)
    name = str(constraint.conname or "")
    if constraint.skip_validation and name:
        state.not_valid.add(name)
    if existing and kind in ("CONSTR_FOREIGN", "CONSTR_CHECK") \
            and not constraint.skip_validation:
        what = "foreign key" if kind == "CONSTR_FOREIGN" else "check"
        shown = state.render(cmd, skip_validation=True, initially_valid=False)
        state.add("constraint-not-valid", f"add {what} {name} on existing table {table} "
                  "validates every row while holding its lock",
                  f"alter table {table} add {shown}; -- then, in a later file: alter table "
                  f"{table} validate constraint {name or '<name>'};", where)
    if existing and kind in ("CONSTR_PRIMARY", "CONSTR_UNIQUE") and not constraint.indexname:
        what = "primary key" if kind == "CONSTR_PRIMARY" else "unique"
        cols = ", ".join(str(k.sval) for k in constraint.keys or ())
        index = name or f"{table}_{'_'.join(str(k.sval) for k in constraint.keys or ())}_key"
        state.add("unique-without-index", f"add {what} on existing table {table} builds its "
                  "index under ACCESS EXCLUSIVE",
                  f"create unique index concurrently if not exists {index} on {table} ({cols}) "
                  f"{_NO_TX}; then: alter table {table} add constraint {index} {what} using "
                  f"index {index};", where)


def _create_index(state: FileState, node: Node) -> None:
    table = relname(node.relation)
    name = str(node.idxname or "")
    if not node.concurrent and state.existing(table):
        state.add("create-index-not-concurrent", f"create index {name} on existing table "
                  f"{table} holds a SHARE lock (writes wait) for the whole build",
                  f"drop index concurrently if exists {name or '<name>'}; "
                  f"{state.render(concurrent=True, if_not_exists=bool(name))}; -- {_NO_TX}")
    if name:
        state.created_indexes.add(name)
    tenancy.create_index(state, node)


def _drop(state: FileState, node: Node) -> None:
    names = [last_name(o) for o in node.objects or ()]
    if node.removeType == "OBJECT_INDEX":
        if node.concurrent and node.missing_ok:
            state.dropped_if_exists.update(names)
        old = [n for n in names if n not in state.created_indexes]
        if not node.concurrent and old:
            state.add("drop-index-not-concurrent", f"drop index {', '.join(old)} takes ACCESS "
                      "EXCLUSIVE on its table (reads and writes wait)",
                      f"{state.render(concurrent=True, missing_ok=True)}; -- {_NO_TX}")
    elif node.removeType in ("OBJECT_TABLE", "OBJECT_SCHEMA", "OBJECT_MATVIEW"):
        old = [n for n in names if n not in state.created]
        if old:
            state.add("drop-table", f"drop {str(node.removeType)[7:].lower()} "
                      f"{', '.join(old)} destroys data")


def _drop_database(state: FileState, node: Node) -> None:
    state.add("drop-table", f"drop database {node.dbname} destroys data")


def _rename(state: FileState, node: Node) -> None:
    table = relname(node.relation)
    if node.renameType == "OBJECT_TABLE" and state.existing(table):
        # deferred: a file that creates a new table (or view) under the old name is a swap
        state.renamed.append((table, state.make(
            "rename", f"rename of table {table} to {node.newname}: running code still uses "
            "the old name")))
    elif node.renameType == "OBJECT_COLUMN" and node.relationType in (
            "OBJECT_TABLE", "OBJECT_VIEW") and state.existing(table):
        state.add("rename", f"rename of column {table}.{node.subname} to {node.newname}: "
                  "running code still uses the old name")


def _view(state: FileState, node: Node) -> None:
    state.created.add(relname(node.view))


def finish(state: FileState) -> None:
    """End of file: a table renamed away and re-created under its name is not a rename."""
    state.findings += [f for old, f in state.renamed if old not in state.created]


def _vacuum(state: FileState, node: Node) -> None:
    if any(o.defname == "full" for o in node.options or ()):
        state.add("table-rewrite", "vacuum full rewrites the table under ACCESS EXCLUSIVE")


def _cluster(state: FileState, node: Node) -> None:
    state.add("table-rewrite", f"cluster {relname(node.relation)} rewrites the table under "
              "ACCESS EXCLUSIVE")


def _lock(state: FileState, node: Node) -> None:
    tables = ", ".join(relname(r) for r in node.relations or ())
    state.add("lock-table", f"lock table {tables} holds an explicit lock to the end of the "
              "file's transaction")


def _reindex(state: FileState, node: Node) -> None:
    if not any(p.defname == "concurrently" for p in node.params or ()):
        state.add("reindex-not-concurrent", "reindex without concurrently blocks writes for "
                  "the whole rebuild", f"{state.render()} -- with CONCURRENTLY, {_NO_TX}")


def _no_transaction(state: FileState, node: Node) -> None:
    """Rules for files that run statement by statement and must survive a re-run."""
    if node.tag == "IndexStmt" and node.concurrent:
        name = str(node.idxname or "")
        if not node.if_not_exists:
            state.add("concurrently-not-idempotent", "create index concurrently without if "
                      "not exists fails when the file is run again",
                      state.render(if_not_exists=bool(name)))
        if not name or name not in state.dropped_if_exists:
            state.add("invalid-index-leftover", f"create index concurrently {name or '(unnamed)'}"
                      " is not preceded by drop index concurrently if exists of the same name: "
                      "a failed build's INVALID index would be kept",
                      f"drop index concurrently if exists {name or '<name it>'}; "
                      f"{state.render(if_not_exists=True)};")
    elif node.tag == "DropStmt" and node.removeType == "OBJECT_INDEX" \
            and node.concurrent and not node.missing_ok:
        state.add("concurrently-not-idempotent", "drop index concurrently without if exists "
                  "fails when the file is run again", state.render(missing_ok=True))
    elif node.tag in ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"):
        clause = node.onConflictClause
        if clause is not None and clause.action == "ONCONFLICT_NOTHING":
            return
        state.add("no-transaction-data-change", "a data change in a no-transaction file is "
                  "committed on its own and repeated if the file is run again")


_HANDLERS: dict[str, Any] = {
    "CreateStmt": _create_table,
    "AlterTableStmt": _alter_table,
    "IndexStmt": _create_index,
    "DropStmt": _drop,
    "DropdbStmt": _drop_database,
    "RenameStmt": _rename,
    "VacuumStmt": _vacuum,
    "ViewStmt": _view,
    "ClusterStmt": _cluster,
    "LockStmt": _lock,
    "ReindexStmt": _reindex,
    "CreateFunctionStmt": tenancy.function,
    "AlterFunctionStmt": tenancy.function,
    "GrantStmt": tenancy.grant,
    "AlterDefaultPrivilegesStmt": tenancy.grant,
    "CreatePolicyStmt": tenancy.policy,
    "CommentStmt": tenancy.comment,
}
