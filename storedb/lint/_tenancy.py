"""Tenancy rules: what keeps one store's rows away from another's, checked before it ships.

A *tenant table* is one with a ``store_id`` column.  The rules mirror
``storedb check --tenancy`` (which audits the catalog after the fact):
row level security enabled, forced and the isolation policy in the file that
creates the table; keys and indexes led by ``store_id``; foreign keys between
tenant tables composite with it; SECURITY DEFINER functions with
``search_path`` pinned and ``pg_temp`` last; no grants to PUBLIC.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ._model import (
    GLOBAL_MARKER,
    FileState,
    key_columns,
    last_name,
    pinned,
    relname,
    search_path_of,
    security_definer,
)
from ._tree import Node, is_

STORE = "store_id"


def _store_setting(side: Any) -> bool:
    """``get_current_store_id()``, or what it reads: ``current_setting('app.current_store_id'
    [, true])::uuid``."""
    if is_(side, "FuncCall"):
        return last_name(side.funcname) == "get_current_store_id" and not side.args
    if is_(side, "TypeCast") and is_(side.arg, "FuncCall") \
            and last_name(side.arg.funcname) == "current_setting":
        first: Any = (side.arg.args or (None,))[0]
        return is_(first, "A_Const") and bool(first.sval) \
            and first.sval.sval == "app.current_store_id"
    return False


def _isolation(expr: Any) -> bool:
    """``store_id = get_current_store_id()`` (either side), exactly."""
    if not is_(expr, "A_Expr") or last_name(expr.name) != "=":
        return False
    sides = [expr.lexpr, expr.rexpr]
    column = [s for s in sides if is_(s, "ColumnRef") and last_name(s.fields) == STORE]
    return bool(column) and any(_store_setting(s) for s in sides)


def _rls_fix(table: str) -> str:
    return (f"alter table {table} enable row level security; alter table {table} force row "
            f"level security; create policy {table}_store_isolation on {table} using (store_id "
            "= get_current_store_id()) with check (store_id = get_current_store_id());")


def create_table(state: FileState, node: Node) -> None:
    table = relname(node.relation)
    columns = [e for e in node.tableElts or () if is_(e, "ColumnDef")]
    if STORE not in {str(c.colname) for c in columns}:
        return
    state.new_tenant_tables.append((table, state.make(
        "tenant-rls", f"tenant table {table} is created without row level security", "")))
    for element in node.tableElts or ():
        if is_(element, "Constraint"):
            _key(state, table, element, None)
    for column in columns:
        for constraint in column.constraints or ():
            _key(state, table, constraint, str(column.colname))


def alter_table_cmd(state: FileState, table: str, cmd: Any) -> None:
    sub = cmd.subtype
    if sub in ("AT_EnableRowSecurity", "AT_ForceRowSecurity"):
        word = "enable" if sub == "AT_EnableRowSecurity" else "force"
        state.rls.setdefault(table, set()).add(word)
    if not state.catalog.tenant(table):
        if sub == "AT_AddColumn" and str(cmd.def_.colname) == STORE:
            state.new_tenant_tables.append((table, state.make(
                "tenant-rls", f"{table} becomes a tenant table (store_id) without row level "
                "security", "")))
        return
    if sub in ("AT_DisableRowSecurity", "AT_NoForceRowSecurity"):
        state.add("tenant-rls", f"turning row level security off on tenant table {table} "
                  "exposes every store's rows", _rls_fix(table))
    elif sub == "AT_AddConstraint":
        _key(state, table, cmd.def_, None)


def _key(state: FileState, table: str, constraint: Any, column: str | None) -> None:
    """Primary, unique and foreign keys of a tenant table."""
    where = getattr(constraint, "location", None)
    kind = constraint.contype
    if kind in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
        cols = [column] if column else key_columns(constraint)
        what = "primary key" if kind == "CONSTR_PRIMARY" else "unique key"
        if constraint.indexname:
            return  # USING INDEX: the index was checked when it was created
        if STORE not in cols:
            state.add("tenant-key", f"{what} ({', '.join(cols)}) of tenant table {table} "
                      "does not include store_id", f"{what} (store_id, {', '.join(cols)})",
                      where)
        elif cols[0] != STORE:
            state.add("tenant-index", f"{what} ({', '.join(cols)}) of tenant table {table} is "
                      "not led by store_id",
                      f"{what} (store_id, {', '.join(c for c in cols if c != STORE)})", where)
    elif kind == "CONSTR_FOREIGN":
        target = relname(constraint.pktable)
        if not (state.catalog.tenant(target) or target == table):
            return
        fk = [column] if column else [str(a.sval) for a in constraint.fk_attrs or ()]
        pk = [str(a.sval) for a in constraint.pk_attrs or ()]
        paired = STORE in fk and (not pk or pk[fk.index(STORE)] == STORE)
        if not paired:
            state.add("tenant-key", f"foreign key ({', '.join(fk)}) from {table} to tenant "
                      f"table {target} does not pair store_id: it can point at another "
                      "store's row",
                      f"foreign key (store_id, {', '.join(c for c in fk if c != STORE)}) "
                      f"references {target} (store_id, id)", where)


def create_index(state: FileState, node: Node) -> None:
    table = relname(node.relation)
    if not state.catalog.tenant(table):
        return
    name = str(node.idxname or "")
    columns = [str(e.name) if e.name else "(expression)" for e in node.indexParams or ()]
    marker = (f" (or, if it must be global: comment on index {name} is "
              f"'{GLOBAL_MARKER}: <why>';)")
    if node.unique and STORE not in columns:
        state.deferred.append((name, state.make(
            "tenant-key", f"unique index {name} on tenant table {table} does not include "
            "store_id: the value becomes unique across all stores",
            f"unique index on {table} (store_id, {', '.join(columns)}){marker}")))
    elif columns and columns[0] != STORE:
        state.deferred.append((name, state.make(
            "tenant-index", f"index {name} on tenant table {table} is led by {columns[0]}, not "
            "store_id", f"create index ... on {table} (store_id, "
            f"{', '.join(c for c in columns if c != STORE)}) (GIN/GiST: btree_gin/btree_gist)"
            f"{marker}")))


def policy(state: FileState, node: Node) -> None:
    table = relname(node.table)
    good = node.permissive and node.cmd_name == "all" and _isolation(node.qual) and (
        node.with_check is None or _isolation(node.with_check))
    if good:
        state.rls.setdefault(table, set()).add("policy")
    elif node.permissive and state.catalog.tenant(table):
        state.add("tenant-rls", f"permissive policy {node.policy_name} on tenant table {table} "
                  "is OR-ed with the isolation policy and can expose other stores' rows",
                  f"create policy {node.policy_name} on {table} as restrictive ...")


def comment(state: FileState, node: Node) -> None:
    if node.objtype == "OBJECT_INDEX" and GLOBAL_MARKER in str(node.comment or ""):
        state.global_indexes.add(last_name(node.object))


def function(state: FileState, node: Any) -> None:
    if node.tag == "CreateFunctionStmt":
        name, options = last_name(node.funcname), node.options
    else:
        name, options = last_name(node.func.objname), node.actions
    definer = security_definer(options)
    path = search_path_of(options)
    if definer is not True:
        return
    ok = pinned(path) if path is not None else state.catalog.pinned.get(name, False)
    if not ok:
        shown = "not set" if path is None else f"'{', '.join(path)}' (pg_temp not last)"
        state.add("definer-search-path", f"SECURITY DEFINER function {name}: search_path "
                  f"{shown}; pg_temp is otherwise searched first, so a caller can shadow the "
                  "tables it uses", f"security definer set search_path = "
                  f"{', '.join(p for p in (path or ['pg_catalog', 'public']) if p != 'pg_temp')}"
                  ", pg_temp")


def grant(state: FileState, node: Any) -> None:
    stmt: Any = node.action if node.tag == "AlterDefaultPrivilegesStmt" else node
    if stmt.is_grant and any(g.roletype == "ROLESPEC_PUBLIC"
                             for g in stmt.grantees or ()):
        state.add("grant-public", "grant to PUBLIC gives the privilege to every role",
                  "grant ... to storedb_app;")


def finish(state: FileState) -> None:
    """End of file: RLS set up anywhere in the file counts; global markers clear index rules."""
    for table, pending in state.new_tenant_tables:
        missing = [w for w in ("enable", "force", "policy") if w not in state.rls.get(table, ())]
        if missing:
            words = {"enable": "not enabled", "force": "not forced",
                     "policy": "no isolation policy"}
            state.findings.append(dataclasses.replace(
                pending, message=f"tenant table {table}: row level security "
                f"{', '.join(words[m] for m in missing)} in this file, so every store can see "
                "every other store's rows", fix=_rls_fix(table)))
    for index, pending in state.deferred:
        if index not in state.global_indexes:
            state.findings.append(pending)
