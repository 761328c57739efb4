"""The privilege half of ``check --tenancy``: who could step around the policies.

Row level security keeps stores apart only while nobody the application can
become is above it.  These rules read the catalog for the ways around it:

``search-path``   a SECURITY DEFINER function whose search_path does not end in
                  ``pg_temp`` (or is not empty): the caller's temporary tables
                  would shadow the ones it uses, and run as the definer
``definer-owner`` a SECURITY DEFINER function owned by a role that can log in
                  or is a superuser
``audit``         an audited table (one of :data:`AUDITED_TABLES`, or one with an
                  audit trigger) whose audit trigger is gone, disabled or no longer
                  covers insert, update and delete
``app-role``      ``storedb_app`` or one of its members is a superuser, has
                  BYPASSRLS, or can become a role that is or has
``grants``        ``storedb_app`` holds a privilege outside the grant list
                  (:mod:`._grants`), or one of its login roles does on top of it

Each function returns ``(object, rule, message, fix)`` tuples.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ._grants import APP_ROLE, allowed_grants, is_allowed

Finding = tuple[str, str, str, str]

#: A table whose comment carries this marker has no audit trigger on purpose.
NOT_AUDITED_MARKER = "storedb:not-audited"
#: Trigger functions that write the audit log.
#: audit_insert_rows() (017) records inserts once per statement, from a transition table.
AUDIT_FUNCTIONS = ("audit_trigger", "audit_insert_rows")
#: The tables the shipped schema audits (infra/db/README.md, "Tenant-table
#: rules"): losing the trigger of one of them is reported even when no other
#: trace of it is left.  A table added later is covered once it has a trigger.
AUDITED_TABLES = ("public.tenants", "public.store_configs", "public.tenant_domains",
                  "public.tenant_settings", "public.products", "public.orders",
                  "public.order_line_items", "public.users", "public.user_preferences")

_AUDIT_NAMES = ", ".join(f"'{name}'" for name in AUDIT_FUNCTIONS)
_AUDITED = ", ".join(f"'{name}'" for name in AUDITED_TABLES)
_APP = f"'{APP_ROLE}'"  # a constant identifier: quoted here, the queries take no parameters
_NOT_SYSTEM = ("n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_'")
_NOT_EXTENSION = ("not exists (select from pg_depend d where d.classid = {catalog}::regclass "
                  "and d.objid = {oid} and d.deptype = 'e')")

_DEFINERS = f"""
select p.oid::regprocedure::text,
       (select c from unnest(p.proconfig) c where c like 'search_path=%'),
       r.rolname, r.rolcanlogin, r.rolsuper
from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_roles r on r.oid = p.proowner
where p.prosecdef and {_NOT_SYSTEM}
  and {_NOT_EXTENSION.format(catalog="'pg_proc'", oid="p.oid")}
order by 1
"""

# Per audited table: the events covered by enabled AFTER ROW audit
# triggers (bit_or of tgtype: 4 insert, 8 delete, 16 update) and disabled ones. An AFTER
# INSERT statement trigger with a transition table (017) counts for inserts.
_AUDIT = f"""
select format('%I.%I', n.nspname, c.relname), coalesce(obj_description(c.oid, 'pg_class'), ''),
       coalesce(bit_or(t.tgtype::int) filter (where t.tgenabled in ('O', 'A')
                                              and (t.tgtype::int & 67 = 1
                                                   or (t.tgtype::int & 67 = 0
                                                       and t.tgnewtable is not null))), 0),
       coalesce(array_agg(t.tgname::text order by t.tgname)
                filter (where t.tgenabled not in ('O', 'A')), '{{}}')
from pg_class c join pg_namespace n on n.oid = c.relnamespace
left join pg_trigger t on t.tgrelid = c.oid and not t.tgisinternal
     and t.tgfoid in (select oid from pg_proc where proname in ({_AUDIT_NAMES}))
where c.relkind in ('r', 'p') and not c.relispartition and {_NOT_SYSTEM}
group by c.oid, n.oid
having format('%I.%I', n.nspname, c.relname) in ({_AUDITED}) or count(t.oid) > 0
order by 1
"""

# storedb_app and every role that is (transitively) a member of it, with every
# role each of them belongs to (SET ROLE reaches it) that is a superuser or
# has BYPASSRLS.
_APP_ROLES = f"""
with recursive m(member) as (
  select oid from pg_roles where rolname = {_APP}
  union
  select a.member from pg_auth_members a join m on a.roleid = m.member /*acts-as*/
), up(member, role) as (
  select member, member from m
  union
  select up.member, a.roleid from pg_auth_members a join up on a.member = up.role /*set-role*/
)
select mr.rolname, gr.rolname, gr.rolsuper, gr.rolbypassrls
from up join pg_roles mr on mr.oid = up.member join pg_roles gr on gr.oid = up.role
where gr.rolsuper or gr.rolbypassrls
order by 1, 2
"""

# Every privilege {role} holds (directly, through PUBLIC or a role it is in):
# (object, privilege, column or NULL, held through PUBLIC).
_PRIVILEGES = f"""
with rel as (
  select c.oid, c.relkind, format('%I.%I', n.nspname, c.relname) as name
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') and {_NOT_SYSTEM}
    and {_NOT_EXTENSION.format(catalog="'pg_class'", oid="c.oid")}
)
select 'table ' || r.name, p.priv, null::text, has_table_privilege('public', r.oid, p.priv)
from rel r cross join unnest(array['select', 'insert', 'update', 'delete', 'truncate',
                                   'references', 'trigger']
  -- PostgreSQL 17's MAINTAIN (VACUUM, REINDEX, CLUSTER, LOCK TABLE: one store could lock every
  -- store out); asking an older server about it is an error
  || case when current_setting('server_version_num')::int >= 170000
          then array['maintain'] else array[]::text[] end) p (priv)
where r.relkind <> 'S' and has_table_privilege({{role}}, r.oid, p.priv)
union all
select 'table ' || r.name, p.priv, a.attname::text,
       has_column_privilege('public', r.oid, a.attnum, p.priv)
from rel r join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
cross join unnest(array['select', 'insert', 'update', 'references']) p (priv)
where r.relkind <> 'S' and not has_table_privilege({{role}}, r.oid, p.priv)
  and has_column_privilege({{role}}, r.oid, a.attnum, p.priv)
union all
select 'sequence ' || r.name, p.priv, null, has_sequence_privilege('public', r.oid, p.priv)
from rel r cross join unnest(array['usage', 'select', 'update']) p (priv)
where r.relkind = 'S' and has_sequence_privilege({{role}}, r.oid, p.priv)
union all
select format('function %I.%I(%s)', n.nspname, f.proname, oidvectortypes(f.proargtypes)),
       'execute', null, has_function_privilege('public', f.oid, 'execute')
from pg_proc f join pg_namespace n on n.oid = f.pronamespace
where {_NOT_SYSTEM} and {_NOT_EXTENSION.format(catalog="'pg_proc'", oid="f.oid")}
  and has_function_privilege({{role}}, f.oid, 'execute')
union all
select format('schema %I', n.nspname), p.priv, null, has_schema_privilege('public', n.oid, p.priv)
from pg_namespace n cross join unnest(array['usage', 'create']) p (priv)
where {_NOT_SYSTEM} and has_schema_privilege({{role}}, n.oid, p.priv)
union all
select 'database', p.priv, null, has_database_privilege('public', current_database(), p.priv)
from unnest(array['connect', 'temporary', 'create']) p (priv)
where has_database_privilege({{role}}, current_database(), p.priv)
order by 1, 2, 3
"""


def definer_findings(conn: Any) -> list[Finding]:
    """search_path and owner of every SECURITY DEFINER function."""
    found: list[Finding] = []
    for function, setting, owner, login, superuser in conn.execute(_DEFINERS).fetchall():
        path = [p.strip().strip('"') for p in setting.split("=", 1)[1].split(",")] \
            if setting else None
        fix = f"alter function {function} set search_path = pg_catalog, public, pg_temp;"
        if path is None:
            found.append((function, "search-path", "SECURITY DEFINER function does not pin "
                          "search_path (a caller could shadow the objects it uses)", fix))
        elif path[-1] != "pg_temp" and path != [""]:
            found.append((function, "search-path", f"SECURITY DEFINER function's search_path "
                          f"({', '.join(path)}) does not end in pg_temp: the caller's temporary "
                          "tables and views are searched first and would run as the definer",
                          fix))
        if login or superuser:
            what = "is a superuser" if superuser else "can log in"
            found.append((function, "definer-owner", f"SECURITY DEFINER function is owned by "
                          f"{owner}, which {what}",
                          "alter role storedb_definer nologin nosuperuser;"
                          if owner == "storedb_definer" else
                          f"alter function {function} owner to storedb_definer;"))
    return found


def audit_findings(conn: Any) -> list[Finding]:
    """Tenant tables whose changes would no longer reach the audit log."""
    found: list[Finding] = []
    rows = conn.execute(_AUDIT).fetchall()
    for table, comment, events, disabled in rows:
        if NOT_AUDITED_MARKER in comment:
            continue
        missing = [op for bit, op in ((4, "insert"), (16, "update"), (8, "delete"))
                   if not events & bit]
        if not missing:
            continue
        short = table.split(".")[-1]
        if disabled:
            fix = "; ".join(f"alter table {table} enable trigger {t}" for t in disabled) + ";"
        else:
            fix = (f"create trigger {short}_audit after update or delete on {table} "
                   "for each row execute function audit_trigger(); "
                   f"create trigger {short}_audit_insert after insert on {table} "
                   "referencing new table as new_rows for each statement execute function "
                   "audit_insert_rows(); (or, if the table holds "
                   f"derived data only: comment on table {table} is "
                   f"'... {NOT_AUDITED_MARKER} <why>';)")
        found.append((table, "audit", f"no enabled audit trigger records {'/'.join(missing)} "
                      "(audited tables must keep audit_trigger())", fix))
    return found


def _memberships(conn: Any, sql: str) -> str:
    """A membership query with the edges that really give a role to its member.

    From PostgreSQL 16 a grant says what it gives: ``inherit_option`` (the role's privileges),
    ``set_option`` (SET ROLE to it), or only ``admin_option`` -- which is what a CREATEROLE
    role gets, implicitly, on every role it creates (the migrating owner on storedb_app, when
    003 creates it).  Such an admin-only member acts as nobody, so it is no app role; and only
    a chain of SET grants lets a member SET ROLE to a role that bypasses RLS.  Before 16 every
    membership gave both.
    """
    if conn.info.server_version < 160000:
        return sql
    return (sql.replace("/*acts-as*/", "and (a.inherit_option or a.set_option)")
               .replace("/*set-role*/", "and a.set_option"))


def app_role_findings(conn: Any) -> list[Finding]:
    """storedb_app and its members: nobody above row level security."""
    found: list[Finding] = []
    for member, role, superuser, _bypassrls in conn.execute(
            _memberships(conn, _APP_ROLES)).fetchall():
        what = "is a superuser" if superuser else "has BYPASSRLS"
        who = f"role {member}" + ("" if member == APP_ROLE else f" (member of {APP_ROLE})")
        if member == role:
            found.append((f"role {member}", "app-role", f"{who} {what}: row level security "
                          "does not apply to it", f"alter role {member} nosuperuser nobypassrls;"))
        else:
            found.append((f"role {member}", "app-role", f"{who} is a member of {role}, which "
                          f"{what}: SET ROLE {role} steps around row level security",
                          f"revoke {role} from {member};"))
    return found


# Members of storedb_app (transitively) that are not superusers (those are
# reported by app_role_findings and hold everything anyway).
_MEMBERS = f"""
with recursive m(member) as (
  select oid from pg_roles where rolname = {_APP}
  union
  select a.member from pg_auth_members a join m on a.roleid = m.member /*acts-as*/
)
select r.rolname from m join pg_roles r on r.oid = m.member
where r.rolname <> {_APP} and not r.rolsuper order by 1
"""


def _privileges(conn: Any, role: str) -> list[tuple[str, str, str | None, bool]]:
    literal = "'" + role.replace("'", "''") + "'"
    return [tuple(r) for r in conn.execute(_PRIVILEGES.replace("{role}", literal)).fetchall()]


def grant_findings(conn: Any) -> list[Finding]:
    """Privileges beyond the documented grant list held by storedb_app, or by one of its
    login roles on top of what storedb_app gives it (a direct grant to app_user)."""
    grants = allowed_grants()
    found: list[Finding] = []
    dbname = conn.execute("select format('%I', current_database())").fetchone()[0]
    own = _privileges(conn, APP_ROLE)
    held = [(APP_ROLE, row) for row in own]
    given = {row[:3] for row in own}
    above = {r[0] for r in conn.execute(_memberships(conn, _APP_ROLES)).fetchall()}
    for (member,) in conn.execute(_memberships(conn, _MEMBERS)).fetchall():
        if member in above:
            continue
        held += [(member, row) for row in _privileges(conn, member) if row[:3] not in given]
    columns: dict[tuple[str, str, str, bool], list[str]] = defaultdict(list)
    for role, (obj, privilege, column, via_public) in held:
        if is_allowed(grants, obj, privilege, column):
            continue
        grantee = "public" if via_public else role
        if column is not None:
            columns[(role, obj, privilege, via_public)].append(column)
            continue
        on = f"database {dbname}" if obj == "database" else obj
        allowed_columns = grants.get(obj, {}).get(privilege)
        fix = f"revoke {privilege} on {on} from {grantee};"
        if allowed_columns:
            fix += (f" grant {privilege} ({', '.join(sorted(allowed_columns))}) on {on} "
                    f"to {grantee};")
        found.append((obj, "grants", _held(role, privilege.upper(), obj, via_public),
                      _or_list(fix)))
    for (role, obj, privilege, via_public), names in columns.items():
        what = f"{privilege.upper()} ({', '.join(names)})"
        fix = f"revoke {privilege} ({', '.join(names)}) on {obj} from " \
              f"{'public' if via_public else role};"
        found.append((obj, "grants", _held(role, what, obj, via_public), _or_list(fix)))
    return found


def _held(role: str, what: str, obj: str, via_public: bool) -> str:
    via = " (through PUBLIC)" if via_public else ""
    who = role if role == APP_ROLE else f"{role} (member of {APP_ROLE})"
    return f"{who} holds {what} on {obj}{via}, which the grant list does not allow"


def _or_list(fix: str) -> str:
    return (f"{fix} (or, if the application needs it, add it to the grant list: "
            "storedb/tenancy/_grants.py and infra/db/README.md)")
