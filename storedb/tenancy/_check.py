"""``check --tenancy``: a catalog audit of the tenant isolation rules.

A DBA runs it after writing a migration (CI runs it on ours).  For every
table with a ``store_id`` column it checks what keeps stores apart in the
database itself, and reports each violation with the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._connection import Database, resolve, session
from ._app_role import connected_role
from ._grants import APP_ROLE
from ._security import app_role_findings, audit_findings, definer_findings, grant_findings

#: An index whose comment carries this marker is global on purpose (e.g. a
#: hostname routes to exactly one store): it need neither include nor lead
#: with store_id.
GLOBAL_UNIQUE_MARKER = "storedb:global-unique"
#: A tenant table whose comment carries this marker has no foreign key to
#: tenants on purpose (audit_log: its history outlives a tenant's hard delete).
NO_TENANT_FK_MARKER = "storedb:no-tenant-fk"

_TABLES = """
select c.oid, format('%I.%I', n.nspname, c.relname), c.relrowsecurity, c.relforcerowsecurity,
       a.attnotnull, a.attnum, coalesce(obj_description(c.oid, 'pg_class'), '')
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attname = 'store_id' and not a.attisdropped
where c.relkind in ('r', 'p') and not c.relispartition
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_'
order by 2
"""

_POLICIES = """
select polrelid, polname, polcmd, pg_get_expr(polqual, polrelid),
       pg_get_expr(polwithcheck, polrelid), polpermissive
from pg_policy
"""

#: The one sub-select a (restrictive) policy may hold: the soft-delete guard of
#: migration 011, an InitPlan evaluated once per statement that reads no row of
#: the policy's table.
LIVE_STORE = "( SELECT current_store_is_live() AS current_store_is_live)"

#: The isolation condition exactly as pg_get_expr() prints it.  Anything looser
#: (``... or true``, another column) does not isolate stores.
ISOLATION = "({column} = get_current_store_id())"

_KEYS = """
select conrelid, conname, contype, conkey, confrelid, confkey
from pg_constraint where contype in ('p', 'u', 'f')
"""

_UNIQUE_INDEXES = """
select i.indrelid, ic.relname, i.indkey::int2[], coalesce(obj_description(ic.oid, 'pg_class'), '')
from pg_index i join pg_class ic on ic.oid = i.indexrelid
where i.indisunique and not exists (select from pg_constraint k where k.conindid = i.indexrelid)
"""

#: Every index with its first column (0 for an expression) and its comment.
_INDEXES = """
select i.indrelid, ic.relname, format('%I.%I', n.nspname, ic.relname), i.indkey[0]::int,
       coalesce(obj_description(ic.oid, 'pg_class'), '')
from pg_index i join pg_class ic on ic.oid = i.indexrelid
join pg_namespace n on n.oid = ic.relnamespace
order by 2
"""

def _policy_problems(name: str, oid: int, column: str, policies: list[Any]
                     ) -> list[tuple[str, str, str]]:
    """What is wrong with a tenant table's policies: (rule, message, fix) each.

    Permissive policies are OR-ed, so besides the one isolation policy no other
    permissive policy may exist: ``using (true)`` next to it would show every
    store's rows.  Restrictive policies only narrow access and are allowed.
    """
    want = ISOLATION.format(column=column)
    mine = [p for p in policies if p[0] == oid]
    good = [p for p in mine if p[2] == "*" and p[5] and p[3] == want and p[4] in (None, want)]
    problems = []
    if not good:
        problems.append((
            "policy", f"no policy for all commands on {column} = get_current_store_id()",
            f"create policy {name.split('.')[-1]}_store_isolation on {name} using "
            f"({column} = get_current_store_id()) with check ({column} = "
            "get_current_store_id());"))
    for p in mine:
        if not p[5] and {p[3], p[4]} <= {LIVE_STORE, None}:
            continue  # the restrictive live-store guard (011)
        if "select" in f"{p[3]} {p[4]}".lower():
            problems.append(("policy", f"policy {p[1]} uses a sub-select (blocks distribution)",
                             f"compare {column} with get_current_store_id() directly"))
        elif p[5] and p not in good:
            problems.append((
                "policy", f"permissive policy {p[1]} is OR-ed with the isolation policy and "
                "can expose other stores' rows",
                f"drop policy {p[1]} on {name}; (or recreate it 'as restrictive')"))
    return problems


@dataclass(frozen=True)
class Violation:
    table: str
    rule: str
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {"table": self.table, "rule": self.rule, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class TenancyReport:
    tables: int
    violations: tuple[Violation, ...]
    role: str = ""  # what was found about the connected role (see _app_role.connected_role)

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "tables": self.tables, "role": self.role,
                "violations": [v.to_json() for v in self.violations]}


def check_tenancy(db: Database | None = None, *, wait: float = 0.0) -> TenancyReport:
    """Check every tenant table, SECURITY DEFINER function and app privilege; change nothing."""
    with session(resolve(db), wait=wait) as conn:
        tables = conn.execute(_TABLES).fetchall()
        policies = conn.execute(_POLICIES).fetchall()
        keys = conn.execute(_KEYS).fetchall()
        uniques = conn.execute(_UNIQUE_INDEXES).fetchall()
        indexes = conn.execute(_INDEXES).fetchall()
        security = definer_findings(conn) + audit_findings(conn)
        if conn.execute("select to_regrole(%s)", (APP_ROLE,)).fetchone() != (None,):
            security += app_role_findings(conn) + grant_findings(conn)
        tenants = conn.execute(
            "select oid, relrowsecurity, relforcerowsecurity from pg_class "
            "where oid = to_regclass('tenants')").fetchone()
        role_note, role_violations = connected_role(conn)
    tenant_attnum = {oid: attnum for oid, _, _, _, _, attnum, _ in tables}
    leading = {(rel, first) for rel, _, _, first, _ in indexes}
    found: list[Violation] = []
    for oid, name, rls, forced, notnull, attnum, comment in tables:
        def bad(rule: str, message: str, fix: str, name: str = name) -> None:
            found.append(Violation(name, rule, message, fix))

        if not notnull:
            bad("not-null", "store_id is nullable",
                f"alter table {name} alter column store_id set not null;")
        if not rls or not forced:
            missing = " and ".join(w for w, ok in (("enabled", rls), ("forced", forced)) if not ok)
            bad("rls", f"row level security is not {missing}",
                f"alter table {name} enable row level security; "
                f"alter table {name} force row level security;")
        for rule, message, fix in _policy_problems(name, oid, "store_id", policies):
            bad(rule, message, fix)
        for rel, conname, contype, conkey, frel, fkey in keys:
            if rel != oid:
                continue
            if contype in ("p", "u") and attnum not in conkey:
                kind = "primary key" if contype == "p" else "unique constraint"
                bad("keys", f"{kind} {conname} does not include store_id",
                    f"make it ({', '.join(['store_id', '...'])}): keys are per store")
            if contype == "f" and frel in tenant_attnum:
                pairs = dict(zip(conkey, fkey, strict=False))
                if pairs.get(attnum) != tenant_attnum[frel]:
                    bad("foreign-keys", f"foreign key {conname} to another tenant table is not "
                        "composite with store_id",
                        "reference (store_id, <col>) to (store_id, id) so rows cannot point "
                        "at another store's row")
        if tenants is not None and NO_TENANT_FK_MARKER not in comment and not any(
                rel == oid and contype == "f" and frel == tenants[0] and conkey == [attnum]
                for rel, _, contype, conkey, frel, _ in keys):
            bad("tenant-fk", "store_id does not reference tenants (id)",
                f"alter table {name} add foreign key (store_id) references tenants (id) "
                "on delete cascade;")
        for rel, index, indkey, comment in uniques:
            if rel == oid and attnum not in indkey and GLOBAL_UNIQUE_MARKER not in comment:
                bad("keys", f"unique index {index} does not include store_id",
                    f"lead it with store_id, or if it must be global say so: comment on index "
                    f"{index} is '{GLOBAL_UNIQUE_MARKER}: <why>';")
        if (oid, attnum) not in leading:
            bad("index", "no index leads with store_id",
                f"create index on {name} (store_id, ...); or make the primary key "
                "(store_id, id)")
        for rel, index, qualified, first, comment in indexes:
            if rel == oid and first != attnum and GLOBAL_UNIQUE_MARKER not in comment:
                bad("index", f"index {index} does not lead with store_id (every query of "
                    "the app is scoped to one store)",
                    f"drop index {qualified}; create index {index} on {name} "
                    "(store_id, ...); (GIN/GiST: btree_gin/btree_gist give store_id an "
                    "operator class) or, if it must be global, comment on index "
                    f"{qualified} is '{GLOBAL_UNIQUE_MARKER}: <why>';")
    if tenants is not None and not (tenants[1] and tenants[2]):
        found.append(Violation("tenants", "rls", "row level security on tenants is not enabled "
                               "and forced", "alter table tenants enable row level security; "
                               "alter table tenants force row level security;"))
    if tenants is not None:
        for rule, message, fix in _policy_problems("tenants", tenants[0], "id", policies):
            found.append(Violation("tenants", rule, message, fix))
    found += [Violation(*finding) for finding in security]
    found += role_violations
    return TenancyReport(len(tables), tuple(found), role_note)
