"""The application's login role: creating it, and proving it is isolated.

Applications serve requests as a login role that is a member of
``storedb_app`` (subject to row level security, owning nothing) and migrate
as the schema's owner: two DSNs.  :func:`create_app_role` makes the first
one idempotently, so nobody copies role SQL out of a README; the password is
hashed on the client (SCRAM, by libpq), so it never travels or lands in a
server log in clear text.  :func:`connected_role` is the part of
``check --tenancy`` that looks at the role it is connected as.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._connection import Database, resolve, session
from ..errors import Error, IsolationError

if TYPE_CHECKING:
    import psycopg

    from ._check import Violation

APP_GROUP = "storedb_app"

_ROLE = """
select r.rolsuper, r.rolbypassrls, r.rolcanlogin,
       coalesce((select pg_has_role(r.oid, g.oid, 'member') from pg_roles g
                 where g.rolname = %(group)s), false),  -- no group before 003 ran
       exists (select from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where c.relowner = r.oid and n.nspname = 'public')
from pg_roles r where r.rolname = %(name)s
"""


def create_app_role(db: Database | None, name: str, *, password: str | None = None,
                    wait: float = 0.0) -> bool:
    """Create login role ``name`` in storedb_app unless it exists; True when created now.

    An existing role is made a member of storedb_app and given LOGIN if it
    lacks them, and ``password`` (when given) replaces its password.  A role
    that is a superuser, has BYPASSRLS or owns tables is refused: row level
    security would not hold for it.  Needs a role with CREATEROLE (the
    migrating owner usually has it) after the migrations created storedb_app.
    """
    import psycopg
    from psycopg import sql

    if not name or len(name.encode()) > 63:
        raise Error(f"role name {name!r} must be 1-63 bytes long.")
    with session(resolve(db), wait=wait) as conn:
        if conn.execute("select 1 from pg_roles where rolname = %s", (APP_GROUP,)).fetchone() \
                is None:
            raise Error(f"role {APP_GROUP} does not exist yet: migrate this database first "
                        "(migrations/003 creates it), then create the application's role.")
        role = sql.Identifier(name)
        created = False
        try:
            if _state(conn, name) is None:
                try:
                    conn.execute(sql.SQL("create role {} login in role {}").format(
                        role, sql.Identifier(APP_GROUP)))
                    created = True
                except psycopg.errors.DuplicateObject:
                    pass  # created by a concurrent call: carry on as for an existing role
            superuser, bypass, login, member, owner = _state(conn, name) or (False,) * 5
            if superuser or bypass or owner:
                what = "a superuser" if superuser else "BYPASSRLS" if bypass else \
                    "the owner of tables in schema public"
                raise IsolationError(
                    f"role {name} exists and is {what}: row level security would not hold for "
                    "it, so it cannot be the application's role. Choose another name (the "
                    "owner migrates, the application serves as a role of its own).")
            if not login:
                conn.execute(sql.SQL("alter role {} login").format(role))
            if not member:
                conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(APP_GROUP), role))
            if password is not None:
                hashed = conn.pgconn.encrypt_password(password.encode(), name.encode(),
                                                      b"scram-sha-256")
                conn.execute(sql.SQL("alter role {} password {}").format(
                    role, sql.Literal(hashed.decode())))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise Error(
                f"this role may not create or change role {name} "
                f"({exc.diag.message_primary}): connect as a role with CREATEROLE (and, on "
                f"PostgreSQL 16+, ADMIN OPTION on {APP_GROUP}), or ask a superuser to run: "
                f"create role {name} login in role {APP_GROUP};") from exc
    return created


def _state(conn: psycopg.Connection[Any], name: str) -> tuple[bool, ...] | None:
    row = conn.execute(_ROLE, {"group": APP_GROUP, "name": name}).fetchone()
    return tuple(bool(v) for v in row) if row else None


def connected_role(conn: psycopg.Connection[Any]) -> tuple[str, list[Violation]]:
    """What ``check --tenancy`` says about the role it is connected as: (note, violations).

    The role that owns the tables is the migrating role, and the check only
    says that the application's DSN should be checked too.  Any other role is
    taken for the application's, which must be isolated: a member of
    storedb_app, not a superuser, without BYPASSRLS.
    """
    from ._check import Violation

    user = conn.execute("select current_user").fetchone()[0]  # type: ignore[index]
    state = _state(conn, user)
    if state is None:  # unreachable for a live session; keep the report honest anyway
        return f"role {user}: not found in pg_roles", []
    superuser, bypass, _, member, owner = state
    if owner:
        return (f"connected as {user}, which owns the tables (the migrating role): run "
                "check --tenancy with the application's DSN to prove its role is isolated"), []
    if member:  # members of storedb_app above RLS are reported by _security for every member
        if superuser or bypass:
            return f"role {user} is not isolated (see its app-role violation)", []
        return (f"role {user} is isolated: a member of {APP_GROUP}, not a superuser, no "
                "BYPASSRLS, owns no table"), []
    found = []
    fix = (f"connect the application as a member of {APP_GROUP} without SUPERUSER or "
           "BYPASSRLS (storedb app-role NAME); if this DSN is not the application's, run the "
           "check with the application's DSN")
    if superuser:
        found.append(Violation(f"role {user}", "app-role", "the connected role is a superuser: "
                               "row level security does not apply to it", fix))
    if bypass:
        found.append(Violation(f"role {user}", "app-role", "the connected role has BYPASSRLS: "
                               "row level security does not apply to it",
                               f"alter role {user} nobypassrls; (or {fix})"))
    found.append(Violation(f"role {user}", "app-role", f"the connected role is not a member "
                           f"of {APP_GROUP}, so it has none of the application's grants",
                           f"grant {APP_GROUP} to {user};"))
    return f"role {user} is not isolated", found
