"""Attacks by a holder of the application's credentials, replayed as ``app_user``.

``app_user`` is a login role in ``storedb_app``, as an application connects.
Each test replays one attack of issue 9 and asserts it is blocked.  The
temp-shadowing test is generic: it finds every SECURITY DEFINER function in
``pg_proc`` and every relation name the function uses, so a function added
by a later migration is covered without a new test.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pglast import parse_plpgsql, parse_sql
from pglast.visitors import Visitor

import storedb
from storedb import seed as load_seed

STORE_A = uuid.UUID("5eed0001-0000-4000-8000-000000000000")  # the attacker's store
STORE_B = uuid.UUID("5eed0002-0000-4000-8000-000000000000")  # the victim


@pytest.fixture
def su(migrated_db: psycopg.Connection, owner_dsn: str) -> psycopg.Connection:
    """The superuser connection, with the demo seed (stores A and B) loaded."""
    load_seed(owner_dsn, force=True)
    migrated_db.commit()
    return migrated_db


@pytest.fixture
def app(app_dsn: str, su: psycopg.Connection) -> Iterator[psycopg.Connection]:
    with psycopg.connect(app_dsn) as conn:
        assert conn.execute("select current_user").fetchone() == ("app_user",)
        conn.rollback()
        yield conn


def scoped(conn: psycopg.Connection, store: uuid.UUID = STORE_A) -> None:
    conn.execute("select set_current_store_id(%s)", (store,))


def audit_rows(su: psycopg.Connection) -> int:
    su.rollback()
    row = su.execute("select count(*) from audit_log").fetchone()
    assert row is not None
    return int(row[0])


# ------------------------------------------------------------ 1. the attack


def test_temp_tenants_trigger_does_not_run_as_the_definer(su, app, owner_dsn):
    """The issue's exploit: a temp ``tenants`` whose trigger forges audit rows and
    drops ``audit_trigger()`` when soft_delete_tenant() updates it."""
    before = audit_rows(su)
    scoped(app)
    app.execute("create temp table tenants (id uuid, deleted_at timestamptz, status text)")
    app.execute("insert into pg_temp.tenants values (%s, null, 'active')", (STORE_A,))
    app.execute("grant all on pg_temp.tenants to public")  # so the definer could use it
    app.execute(f"""
        create function pg_temp.evil() returns trigger language plpgsql as $$ begin
          insert into public.audit_log (store_id, table_name, operation, row_key, db_user,
                                        db_session_user)
            values ('{STORE_B}', 'orders', 'delete', '{{"id": "forged"}}', 'x', 'x');
          drop function public.audit_trigger() cascade;
          return new; end $$""")
    app.execute("create trigger evil before update on pg_temp.tenants "
                "for each row execute function pg_temp.evil()")
    app.execute("select soft_delete_tenant(%s)", (STORE_A,))
    assert app.execute("select count(*) from pg_temp.tenants where deleted_at is null"
                       ).fetchone() == (1,)  # the shadow was not touched
    app.commit()
    su.rollback()
    assert su.execute("select deleted_at is not null from public.tenants where id = %s",
                      (STORE_A,)).fetchone() == (True,)  # the real row was
    assert su.execute("select count(*) from audit_log where row_key = '{\"id\": \"forged\"}'"
                      ).fetchone() == (0,)
    assert su.execute("select count(*) from pg_trigger where tgname like '%\\_audit'"
                      ).fetchone()[0] >= 9  # every audit trigger is still there
    released = su.execute("select count(*) from audit_log where table_name = 'tenant_domains' "
                          "and changed_columns = '{verified_at}' and store_id = %s",
                          (STORE_A,)).fetchone()[0]
    # the soft delete itself is audited (and, issue 16, each custom domain it released)
    assert audit_rows(su) == before + 1 + released
    assert storedb.check_tenancy(owner_dsn).ok


def test_temp_audit_log_does_not_swallow_audit_rows(su, app):
    before = audit_rows(su)
    scoped(app)
    app.execute("create temp table audit_log (like public.audit_log)")
    app.execute("grant all on pg_temp.audit_log to public")
    app.execute("update products set title = title || '!' where store_id = %s", (STORE_A,))
    changed = app.execute("select count(*) from products").fetchone()[0]
    assert changed > 0
    assert app.execute("select count(*) from pg_temp.audit_log").fetchone() == (0,)
    app.commit()
    assert audit_rows(su) == before + changed


def test_temp_view_products_does_not_run_app_code_through_search_products(su, app):
    scoped(app)
    app.execute("""
        create function pg_temp.evil() returns boolean language plpgsql as $$ begin
          alter function public.search_products(text, integer) security invoker;
          return true; end $$""")
    app.execute("create temp view products as select * from public.products "
                "where pg_temp.evil()")
    app.execute("grant all on pg_temp.products to public")
    found = app.execute("select store_id from search_products('')").fetchall()
    assert found and {r[0] for r in found} == {STORE_A}
    app.commit()
    su.rollback()
    assert su.execute("select prosecdef from pg_proc where proname = 'search_products'"
                      ).fetchone() == (True,)


# ------------------------------------------- 1b. generic: every definer, every relation


def _relation_names(definition: str, body: str, language: str, known: set[str]) -> set[str]:
    """Relation names a function body uses: every SQL statement of it parsed with
    pglast (PL/pgSQL bodies through its PL/pgSQL parser), plus any known relation
    name that appears as a word (dynamic SQL, strings)."""
    queries: list[str] = []
    if language == "plpgsql":
        tree = parse_plpgsql(definition)

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if "PLpgSQL_expr" in node:
                    queries.append(node["PLpgSQL_expr"]["query"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(tree)
    else:
        queries.append(body)
    names: set[str] = set()

    class Ranges(Visitor):  # type: ignore[misc]
        def visit_RangeVar(self, ancestors: Any, node: Any) -> None:
            names.add(node.relname)

    for query in queries:
        try:
            statements = parse_sql(query)
        except Exception:  # an expression or assignment, not a statement
            try:
                statements = parse_sql(f"select {query.split(':=', 1)[-1]}")
            except Exception:
                continue
        Ranges()(statements)
    words = set(re.findall(r"[a-z_][a-z0-9_]*", body.lower()))
    return names | (words & known)


def _definers(su: psycopg.Connection) -> list[tuple[Any, ...]]:
    return su.execute("""
        select p.oid, p.proname, p.oid::regprocedure::text, l.lanname, p.prosrc,
               pg_get_functiondef(p.oid),
               p.prorettype = 'trigger'::regtype, p.pronargs - p.pronargdefaults,
               p.proargtypes::regtype[]::text[], p.prorettype::regtype::text,
               has_function_privilege('storedb_app', p.oid, 'execute')
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        join pg_language l on l.oid = p.prolang
        where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema')
          and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
        order by 3""").fetchall()


#: a value for each argument type, so that any definer can be called
_VALUES = {"uuid": str(STORE_A), "text": "zeta", "integer": "10", "bigint": "10",
           "boolean": "true", "jsonb": "{}", "json": "{}"}


def _calls(su: psycopg.Connection, oid: int, name: str, trigger: bool, required: int,
           types: list[str]) -> list[str]:
    """SQL that makes the function run as the app would: a call, or a write to
    every table one of its triggers sits on."""
    if not trigger:
        args = []
        for t in types[:required]:
            value = _VALUES.get(t)
            if value is None:  # an enum: its first label
                row = su.execute("select e.enumlabel from pg_enum e where e.enumtypid = "
                                 "%s::regtype order by e.enumsortorder limit 1", (t,)).fetchone()
                value = row[0] if row else None
            args.append("null" if value is None else f"'{value}'::{t}")
        return [f"select * from {name}({', '.join(args)})"]
    tables = su.execute("""
        select distinct format('%%I.%%I', n.nspname, c.relname) from pg_trigger t
        join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
        where t.tgfoid = %s and not t.tgisinternal
          and exists (select from pg_attribute a where a.attrelid = c.oid
                      and a.attname = 'updated_at')
          and has_column_privilege('storedb_app', c.oid, 'updated_at', 'update')
        order by 1""", (oid,)).fetchall()
    calls = [f"update {t} set updated_at = updated_at + interval '1 second'" for (t,) in tables]
    # issue 16: a trigger on INSERT only (orders_assign_display_id()): an insert of defaults
    # (store_id defaults to the scope's store since 016)
    inserts = su.execute("""
        select distinct format('%%I.%%I', n.nspname, c.relname) from pg_trigger t
        join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
        where t.tgfoid = %s and not t.tgisinternal and t.tgtype & 4 <> 0
          and has_table_privilege('storedb_app', c.oid, 'insert')
        order by 1""", (oid,)).fetchall()
    return calls or [f"insert into {t} default values" for (t,) in inserts]


def _observe(app: psycopg.Connection, calls: list[str], tables: list[str]
             ) -> tuple[list[Any], dict[str, int]]:
    """Results of the calls and the rows of every real table the app can see.

    A store id drawn by the call (create_tenant) differs from run to run: every
    uuid other than the seed's stores reads as "new"."""
    results: list[Any] = []
    for call in calls:
        try:
            with app.transaction():
                cur = app.execute(call)
                rows = cur.fetchall() if cur.description else cur.rowcount
                results.append(json.loads(re.sub(
                    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                    lambda m: m[0] if m[0] in (str(STORE_A), str(STORE_B)) else "new",
                    json.dumps(rows, default=str))))
        except psycopg.Error as exc:
            results.append([exc.sqlstate, exc.diag.message_primary])
    counts = {t: app.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
    return results, counts


SHADOW_HIT = "SHADOW USED"


def _shadow(app: psycopg.Connection, name: str, kind: str) -> None:
    """A temp object named ``name`` that fails loudly whenever it is used."""
    real = app.execute("select format('%%I.%%I', n.nspname, c.relname) from pg_class c "
                       "join pg_namespace n on n.oid = c.relnamespace where c.relname = %s "
                       "and n.nspname !~ '^pg_temp' order by n.nspname <> 'public' limit 1",
                       (name,)).fetchone()
    app.execute(f"""create or replace function pg_temp.shadow_hit() returns trigger
        language plpgsql as $$ begin raise exception '{SHADOW_HIT}: %', tg_table_name;
        end $$""")
    app.execute(f"""create or replace function pg_temp.shadow_read(t text) returns boolean
        language plpgsql as $$ begin raise exception '{SHADOW_HIT}: %', t; end $$""")
    if kind == "view":
        for source in ([real[0]] if real else []) + ["(select 1 as x) s"]:
            try:  # a pseudo-type column (pg_attribute) cannot be in a view: the fallback can
                with app.transaction():
                    app.execute(f'create temp view "{name}" as select * from {source} '
                                f"where pg_temp.shadow_read('{name}')")
                    app.execute(f'grant all on pg_temp."{name}" to public')  # the definer too
                return
            except psycopg.errors.InvalidTableDefinition:
                continue
    try:  # same columns, and a copy of the rows the app sees: a plausible decoy
        with app.transaction():
            app.execute(f'create temp table "{name}" (like {real[0]})')
        with app.transaction():
            app.execute(f'insert into pg_temp."{name}" select * from {real[0]}')
    except (psycopg.Error, TypeError):  # no real one, no SELECT on it, a pseudo-type
        if not app.execute("select to_regclass(%s)", (f'pg_temp."{name}"',)).fetchone()[0]:
            app.execute(f'create temp table "{name}" (id uuid, store_id uuid)')
    app.execute(f'create trigger shadow_hit before insert or update or delete on '
                f'pg_temp."{name}" for each row execute function pg_temp.shadow_hit()')
    app.execute(f'grant all on pg_temp."{name}" to public')  # usable by the definer too


def test_every_definer_ignores_temp_objects_named_like_what_it_uses(su, app):
    """For every SECURITY DEFINER function and every relation it uses: a temp table
    (with a trigger that fails when written) or a temp view (that fails when read)
    of that name, created by the app, is never used; the function's results and
    the real tables the app sees are what they are without the shadow."""
    known = {r[0] for r in su.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname !~ '^pg_(toast|temp)'")}
    visible = [r[0] for r in su.execute(
        "select format('public.%I', c.relname) from pg_class c where c.relnamespace = "
        "'public'::regnamespace and c.relkind in ('r', 'p') "
        "and has_table_privilege('storedb_app', c.oid, 'select') order by 1")]
    definers = _definers(su)
    names = {d[1] for d in definers}
    assert names >= {"audit_trigger", "create_tenant", "soft_delete_tenant",
                     "resolve_store_id", "search_products"}
    covered: dict[str, set[str]] = {}
    for (oid, _, name, language, body, definition, trigger, required, types, returns,
         callable_) in definers:
        if not (callable_ or trigger):
            continue  # the app cannot call it at all (verify_tenant_domain: platform only)
        used = _relation_names(definition, body, language, known)
        if returns.split(".")[-1] in known:  # setof products
            used.add(returns.split(".")[-1])
        calls = _calls(su, oid, name, trigger, required, types)
        if trigger and not calls:
            # issue 16: fired only by platform writes the app cannot make (a tenant's
            # hard delete, soft_delete_tenant() setting deleted_at)
            assert name in ("tenants_record_deletion()", "tenants_release_domains()"), name
            continue
        assert calls, f"{name}: no way to make it run"
        scoped(app)
        baseline = _observe(app, calls, visible)
        app.rollback()
        assert baseline[0], name
        for relation in sorted(used):
            for kind in ("table", "view"):
                scoped(app)
                _shadow(app, relation, kind)
                seen = _observe(app, calls, visible)
                text = json.dumps(seen, default=str)
                assert SHADOW_HIT not in text, f"{name} used the app's temp {kind} {relation}"
                assert seen == baseline, f"{name} with a temp {kind} {relation}: {seen}"
                app.rollback()
        covered[name] = used
    assert {"tenants", "store_configs", "tenant_settings"} <= covered[
        "create_tenant(text,text,subscription_plan,text,text,text,jsonb,uuid)"]
    assert {"audit_log", "tenants"} <= covered["audit_trigger()"]
    assert "products" in covered["search_products(text,integer)"]
    assert {"tenant_domains", "tenants", "platform_domains"} <= covered[
        "resolve_store_id(text)"]


# ------------------------------------------------------------ 2. hostname takeover


def test_a_store_cannot_verify_its_own_domain(su, app):
    scoped(app)
    for statement in (
            "insert into tenant_domains (store_id, domain, verified_at) "
            "values (%(a)s, 'alpha-shop.example.com', now())",
            "update tenant_domains set verified_at = now()",
            "update tenant_domains set verification_token = 'chosen'",
            "update tenant_domains set domain = 'other.example.com'",
            "select verify_tenant_domain('alpha-shop.example.com')"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), app.transaction():
            app.execute(statement, {"a": STORE_A})
    # what the app may do: add a domain (unverified) and choose its primary one
    app.execute("insert into tenant_domains (store_id, domain, is_primary) "
                "values (%s, 'alpha-shop.example.com', false)", (STORE_A,))
    app.execute("update tenant_domains set is_primary = (domain = 'alpha-shop.example.com')")
    app.commit()
    assert app.execute("select resolve_store_id('alpha-shop.example.com')").fetchone() != (
        STORE_A,)  # not routed until the platform verifies it
    app.rollback()
    # the platform verifies it (here as the superuser; in production its verifier role)
    assert su.execute("select verify_tenant_domain('alpha-shop.example.com')"
                      ).fetchone() == (STORE_A,)
    su.commit()
    assert app.execute("select resolve_store_id('alpha-shop.example.com')").fetchone() == (
        STORE_A,)
    app.rollback()


def test_no_store_claims_a_hostname_under_the_platform_domain(su, app):
    bravo = su.execute("select subdomain from tenants where id = %s", (STORE_B,)).fetchone()[0]
    su.rollback()
    for host in (f"{bravo}.storedb.io", "storedb.io", f"www.{bravo}.storedb.io",
                 f"{bravo}.localhost"):
        scoped(app)
        with pytest.raises(psycopg.errors.CheckViolation) as info:
            app.execute("insert into tenant_domains (store_id, domain) values (%s, %s)",
                        (STORE_A, host))
        assert info.value.diag.constraint_name == "tenant_domains_platform_domain_check"
        assert str(STORE_B) not in str(info.value)
        app.rollback()
    # nor by renaming a domain it has
    scoped(app)
    app.execute("insert into tenant_domains (store_id, domain) values (%s, 'a.example.org')",
                (STORE_A,))
    app.commit()
    # even a row that got there (before 006, or by hand, verified) never routes
    su.execute("set session_replication_role = replica")  # skip the guard trigger
    su.execute("insert into tenant_domains (store_id, domain, verified_at) "
               "values (%s, %s, now())", (STORE_A, f"{bravo}.storedb.io"))
    su.execute("set session_replication_role = origin")
    su.commit()
    for host in (f"{bravo}.storedb.io", f"{bravo.upper()}.storedb.io:443", f"{bravo}.storedb.io."):
        assert app.execute("select resolve_store_id(%s)", (host,)).fetchone() == (STORE_B,)
        app.rollback()
    # a platform-side rename of a verified domain drops the verification
    su.execute("update tenant_domains set verified_at = now() where domain = 'a.example.org'")
    su.execute("update tenant_domains set domain = 'b.example.org' where domain = "
               "'a.example.org'")
    assert su.execute("select verified_at from tenant_domains where domain = 'b.example.org'"
                      ).fetchone() == (None,)
    su.rollback()


# ------------------------------------------------------------ 5. cross-store oracles


def test_soft_delete_answers_alike_for_unknown_and_other_stores_ids(su, app):
    answers = []
    for target in (STORE_B, uuid.UUID(int=7)):
        scoped(app)
        with pytest.raises(psycopg.Error) as info:
            app.execute("select soft_delete_tenant(%s)", (target,))
        app.rollback()
        error = info.value
        answers.append((error.sqlstate, error.diag.message_primary.replace(str(target), "X"),
                        error.diag.message_detail, error.diag.message_hint))
        assert str(STORE_A) not in str(error)
    assert answers[0] == answers[1] == ("P0002", "tenant X not found", None, None)
    # and through the DAO: the same exception for both
    with pytest.raises(storedb.TenantNotFound), storedb.tenant_scope(app, STORE_A) as conn:
        storedb.soft_delete_tenant(conn, STORE_B)
    su.rollback()
    assert su.execute("select deleted_at from tenants where id = %s", (STORE_B,)
                      ).fetchone() == (None,)


def test_create_tenant_with_an_existing_id_shows_no_key(su, app):
    for existing in (STORE_B, STORE_A):
        with pytest.raises(psycopg.errors.UniqueViolation) as info:
            app.execute("select create_tenant('zeta', 'Zeta', p_id => %s)", (existing,))
        app.rollback()
        error = info.value
        assert error.diag.message_detail is None
        assert str(existing) not in str(error) and str(existing) not in (
            error.diag.message_hint or "")
        assert error.diag.constraint_name == "tenants_pkey"
