"""``storedb check --tenancy``: the catalog audit of the tenant-table rules.

Our own schema must pass; a migration that breaks the rules must be caught,
with the table, the rule and the fix named, by exit code 3.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import storedb
from tests.helpers import SQL_DIR, run_cli

pytestmark = pytest.mark.matrix  # also on PostgreSQL 14-18: make test-matrix

BROKEN = """\
-- A wishlist feature written without reading the tenant-table rules.

-- 1. store_id, but no RLS, no policy, a global primary key and a global unique index
create table wishlists (
  id       uuid not null default gen_random_uuid(),
  store_id uuid not null references tenants (id) on delete cascade,
  name     text not null,
  constraint wishlists_pkey primary key (id)
);
create unique index wishlists_name_key on wishlists (name);

-- 2. nullable store_id, a foreign key to another tenant table without store_id,
--    RLS enabled but not forced, a policy with a sub-select
create table wishlist_items (
  store_id    uuid references tenants (id) on delete cascade,
  id          uuid not null default gen_random_uuid(),
  wishlist_id uuid not null references wishlists (id),
  constraint wishlist_items_store_id_id_key unique (store_id, id)  -- a pkey would set not null
);
alter table wishlist_items enable row level security;
create policy wishlist_items_store_isolation on wishlist_items
  using (store_id in (select id from tenants where id = get_current_store_id()));

-- 3. a platform helper that bypasses RLS but does not pin search_path
create function count_wishlists() returns bigint
  language sql security definer
as $$ select count(*) from wishlists $$;

-- 4. isolated, but a second permissive policy is OR-ed with it (support staff
--    "just reading"): every store's rows become visible
create table wishlist_notes (
  store_id uuid not null references tenants (id) on delete cascade,
  id       uuid not null default gen_random_uuid(),
  constraint wishlist_notes_pkey primary key (store_id, id)
);
alter table wishlist_notes enable row level security;
alter table wishlist_notes force row level security;
create policy wishlist_notes_store_isolation on wishlist_notes
  using (store_id = get_current_store_id()) with check (store_id = get_current_store_id());
create policy wishlist_notes_support on wishlist_notes for select using (true);
-- and a "looks right" policy on tenants that is not
create policy tenants_directory on tenants for select using (id = get_current_store_id() or true);

-- 5. done right: must not be reported
create table wishlist_shares (
  store_id   uuid not null,
  id         uuid not null default gen_random_uuid(),
  email      text not null,
  constraint wishlist_shares_pkey primary key (store_id, id),
  constraint wishlist_shares_store_id_fkey
    foreign key (store_id) references tenants (id) on delete cascade
);
create unique index wishlist_shares_store_id_email_key on wishlist_shares (store_id, email);
alter table wishlist_shares enable row level security;
alter table wishlist_shares force row level security;
create policy wishlist_shares_store_isolation on wishlist_shares
  using (store_id = get_current_store_id()) with check (store_id = get_current_store_id());
"""

EXPECTED = {
    ("public.wishlists", "rls"),
    ("public.wishlists", "policy"),
    ("public.wishlists", "keys"),          # primary key and unique index without store_id
    ("public.wishlists", "index"),         # nothing leads with store_id
    ("public.wishlist_items", "not-null"),
    ("public.wishlist_items", "rls"),      # enabled, not forced
    ("public.wishlist_items", "policy"),   # no with-check for all, and a sub-select
    ("public.wishlist_items", "foreign-keys"),
    ("public.wishlist_notes", "policy"),  # the OR-ed permissive policy
    ("tenants", "policy"),
    ("count_wishlists()", "search-path"),
    ("count_wishlists()", "definer-owner"),  # owned by the migrating login role
    ("function public.count_wishlists()", "grants"),  # PUBLIC may execute it
}


@pytest.fixture
def broken_dsn(owner_dsn: str, sqldir) -> str:
    """The shipped SQL plus migrations/900_broken.sql, migrated by the owner."""
    files: dict[str, str | bytes] = {
        str(p.relative_to(SQL_DIR)): p.read_bytes()
        for p in SQL_DIR.rglob("*.sql") if p.parent.name in ("schema", "migrations")}
    files["migrations/900_broken.sql"] = BROKEN
    root: Path = sqldir(files)
    result = storedb.migrate(owner_dsn, directory=root)
    assert [a.file for a in result.applied] == ["migrations/900_broken.sql"]
    return owner_dsn


NON_LEADING_INDEXES = """\
-- Search by title, written without the tenant-table rules: every index on a
-- tenant table must lead with store_id.
create index products_title_idx on products (title);
create index products_lower_sku_idx on products (lower(sku));
create index products_store_id_title_idx on products (title, store_id);  -- store_id, but second
-- global on purpose and said so: not reported
create index products_external_id_idx on products (external_id);
comment on index products_external_id_idx is 'storedb:global-unique lookups across stores';
-- leading with store_id (btree and GIN): not reported
create index products_store_id_vendor_idx on products (store_id, vendor);
create index products_store_id_metadata_idx on products using gin (store_id, metadata);
"""


def with_migration(owner_dsn: str, sqldir, body: str) -> str:
    """The shipped SQL plus migrations/900_extra.sql with ``body``, migrated by the owner."""
    files: dict[str, str | bytes] = {
        str(p.relative_to(SQL_DIR)): p.read_bytes()
        for p in SQL_DIR.rglob("*.sql") if p.parent.name in ("schema", "migrations")}
    files["migrations/900_extra.sql"] = body
    result = storedb.migrate(owner_dsn, directory=sqldir(files))
    assert [a.file for a in result.applied] == ["migrations/900_extra.sql"]
    return owner_dsn


def test_shipped_schema_has_no_index_that_does_not_lead_with_store_id(migrated_db):
    rows = migrated_db.execute("""
        select i.indexrelid::regclass::text, coalesce(obj_description(i.indexrelid), '')
        from pg_index i
        join pg_attribute a on a.attrelid = i.indrelid and a.attname = 'store_id'
        where i.indkey[0] <> a.attnum""").fetchall()
    assert [name for name, _ in rows] == ["tenant_domains_domain_verified_key"]
    assert rows[0][1].startswith("storedb:global-unique")


def test_index_not_leading_with_store_id_is_reported(owner_dsn, sqldir):
    from storedb.tenancy import check_tenancy as audit

    report = audit(with_migration(owner_dsn, sqldir, NON_LEADING_INDEXES))
    assert {(v.table, v.rule) for v in report.violations} == {("public.products", "index")}
    messages = sorted(v.message for v in report.violations)
    assert [m.split()[1] for m in messages] == [
        "products_lower_sku_idx", "products_store_id_title_idx", "products_title_idx"]
    assert all("does not lead with store_id" in m for m in messages)
    fix = next(v.fix for v in report.violations if "products_title_idx " in v.message)
    assert fix.startswith("drop index public.products_title_idx; create index "
                          "products_title_idx on public.products (store_id, ...);")
    assert "storedb:global-unique" in fix

    result = run_cli("check", "--tenancy", "--dsn", owner_dsn)
    assert result.code == 3, result.out + result.err
    assert "index products_title_idx does not lead with store_id" in result.out
    assert "products_external_id_idx" not in result.out
    assert "products_store_id_vendor_idx" not in result.out
    assert "products_store_id_metadata_idx" not in result.out


def test_shipped_schema_passes(owner_dsn):
    result = run_cli("check", "--tenancy", "--dsn", owner_dsn)
    assert result.code == 0, result.out + result.err
    assert "tenancy ok" in result.out
    checked = int(result.out.split("tenancy ok: ")[1].split()[0])
    assert checked >= 10  # every table with store_id (audit_log, products, ... users)


def test_broken_migration_is_reported_with_rule_and_fix(broken_dsn):
    from storedb.tenancy import check_tenancy as audit

    report = audit(broken_dsn)
    assert not report.ok
    found = {(v.table, v.rule) for v in report.violations}
    assert found == EXPECTED
    by_rule = {(v.table, v.rule): v for v in report.violations}
    assert "alter table public.wishlists enable row level security" in \
        by_rule[("public.wishlists", "rls")].fix
    assert "force row level security" in by_rule[("public.wishlist_items", "rls")].fix
    assert "create policy wishlists_store_isolation" in \
        by_rule[("public.wishlists", "policy")].fix
    assert "alter column store_id set not null" in \
        by_rule[("public.wishlist_items", "not-null")].fix
    assert "set search_path = pg_catalog, public" in \
        by_rule[("count_wishlists()", "search-path")].fix
    keys = [v.message for v in report.violations if v.table == "public.wishlists"
            and v.rule == "keys"]
    assert any("wishlists_pkey" in m for m in keys)
    assert any("wishlists_name_key" in m for m in keys)
    assert not any("wishlist_shares" in v.table for v in report.violations)
    notes = by_rule[("public.wishlist_notes", "policy")]
    assert "wishlist_notes_support" in notes.message
    assert notes.fix.startswith("drop policy wishlist_notes_support on public.wishlist_notes")
    assert "tenants_directory" in by_rule[("tenants", "policy")].message


def test_cli_exits_3_naming_table_rule_and_fix(broken_dsn):
    result = run_cli("check", "--tenancy", "--dsn", broken_dsn)
    assert result.code == 3, result.out + result.err
    assert "public.wishlists: row level security is not enabled and forced" in result.out
    assert "fix: alter table public.wishlists enable row level security;" in result.out
    assert "public.wishlist_items: store_id is nullable" in result.out
    assert "count_wishlists(): SECURITY DEFINER function does not pin search_path" in result.out
    assert "wishlist_shares" not in result.out

    as_json = run_cli("check", "--tenancy", "--json", "--dsn", broken_dsn)
    assert as_json.code == 3
    payload = json.loads(as_json.out)["tenancy"]
    assert payload["ok"] is False
    assert {(v["table"], v["rule"]) for v in payload["violations"]} == EXPECTED
    assert all(v["fix"] and v["message"] for v in payload["violations"])


def test_cli_json_on_a_good_schema(owner_dsn):
    result = run_cli("check", "--tenancy", "--json", "--dsn", owner_dsn)
    assert result.code == 0, result.out + result.err
    payload = json.loads(result.out)
    assert payload["ok"] is True and payload["problems"] == []  # every file applied
    assert payload["tenancy"]["ok"] is True and payload["tenancy"]["violations"] == []
    assert payload["tenancy"]["tables"] >= 10


def test_tenancy_check_also_requires_every_file_applied(empty_dsn):
    result = run_cli("check", "--tenancy", "--dsn", empty_dsn)
    assert result.code == 3  # nothing applied: not "ok", whatever the catalog says
    assert "pending  schema/00_base.sql" in result.out


def test_tenants_table_losing_force_is_reported(owner_dsn, migrated_db):
    migrated_db.execute("alter table tenants no force row level security")
    migrated_db.commit()
    from storedb.tenancy import check_tenancy as audit

    report = audit(owner_dsn)
    assert [(v.table, v.rule) for v in report.violations] == [("tenants", "rls")]
    assert "force row level security" in report.violations[0].fix


def test_tenant_table_without_a_foreign_key_to_tenants_is_reported(owner_dsn, sqldir):
    files = {str(p.relative_to(SQL_DIR)): p.read_text() for p in SQL_DIR.glob("*/*.sql")}
    files["migrations/900_orphan.sql"] = (
        "create table orphans (store_id uuid not null, id int not null,\n"
        "  constraint orphans_pkey primary key (store_id, id));\n"
        "alter table orphans enable row level security;\n"
        "alter table orphans force row level security;\n"
        "create policy orphans_store_isolation on orphans using (store_id = "
        "get_current_store_id()) with check (store_id = get_current_store_id());\n")
    storedb.migrate(owner_dsn, directory=sqldir(files))
    report = storedb.check_tenancy(owner_dsn)
    assert {(v.table, v.rule) for v in report.violations} == {("public.orphans", "tenant-fk")}
    assert "references tenants (id)" in report.violations[0].fix


# ------------------------------------------------------------------ privilege rules

SECURITY_BREAKS = """\
-- each statement breaks one rule of the privilege half of check --tenancy
alter function resolve_store_id(text) set search_path = pg_catalog, public;
create function wishlist_count() returns bigint language sql security definer
  set search_path = pg_catalog, pg_temp, public as $$ select 1::bigint $$;
alter function search_products(text, integer) owner to storedb_owner;
drop trigger products_audit on products;
alter table orders disable trigger orders_audit;
grant update (verified_at) on tenant_domains to storedb_app;
grant truncate on orders to storedb_app;
grant update on tenant_domains to storedb_app;
create function public.new_helper() returns int language sql as 'select 1';
grant create on schema public to public;
-- allowed: revoking is never a violation, nor a definer with an empty search_path
revoke delete on users from storedb_app;
create function empty_path() returns int language sql security definer
  set search_path = '' as 'select 1';
alter function empty_path() owner to storedb_definer;
revoke all on function empty_path() from public;
"""

SECURITY_EXPECTED = {
    ("resolve_store_id(text)", "search-path"),
    ("wishlist_count()", "search-path"),
    ("wishlist_count()", "definer-owner"),
    ("search_products(text,integer)", "definer-owner"),
    ("public.products", "audit"),
    ("public.orders", "audit"),
    ("table public.tenant_domains", "grants"),
    ("table public.orders", "grants"),
    ("function public.new_helper()", "grants"),
    ("function public.wishlist_count()", "grants"),  # EXECUTE through PUBLIC
    ("schema public", "grants"),
    ("role app_user", "app-role"),
    ("role i09_super_app", "app-role"),
}


def test_privilege_rules_report_each_planted_violation(owner_dsn, sqldir, migrated_db):
    """Every new rule: a planted violation is named with its object and fix, exit 3."""
    dsn = with_migration(owner_dsn, sqldir, SECURITY_BREAKS)
    migrated_db.autocommit = True
    migrated_db.execute("grant storedb_definer to app_user")  # roles are cluster-wide:
    migrated_db.execute("create role i09_super_app superuser login in role storedb_app")
    try:
        report = storedb.check_tenancy(dsn)
        result = run_cli("check", "--tenancy", "--json", "--dsn", dsn)
    finally:
        migrated_db.execute("revoke storedb_definer from app_user")
        migrated_db.execute("drop role i09_super_app")
    found = {(v.table, v.rule) for v in report.violations}
    assert found == SECURITY_EXPECTED, found ^ SECURITY_EXPECTED
    fixes = {(v.table, v.rule, v.fix.split(" (or")[0]) for v in report.violations}
    assert ("resolve_store_id(text)", "search-path", "alter function resolve_store_id(text) "
            "set search_path = pg_catalog, public, pg_temp;") in fixes
    assert ("search_products(text,integer)", "definer-owner", "alter function "
            "search_products(text,integer) owner to storedb_definer;") in fixes
    assert ("public.orders", "audit", "alter table public.orders enable trigger "
            "orders_audit;") in fixes
    assert ("role app_user", "app-role", "revoke storedb_definer from app_user;") in fixes
    assert ("role i09_super_app", "app-role",
            "alter role i09_super_app nosuperuser nobypassrls;") in fixes
    assert ("function public.new_helper()", "grants",
            "revoke execute on function public.new_helper() from public;") in fixes
    assert ("schema public", "grants", "revoke create on schema public from public;") in fixes
    domains = sorted(v.fix for v in report.violations
                     if v.table == "table public.tenant_domains")
    assert domains[0].startswith("revoke update on table public.tenant_domains from "
                                 "storedb_app; grant update (is_primary) on table "
                                 "public.tenant_domains to storedb_app;")
    assert len(domains) == 1  # verified_at is covered by the table-wide update
    products = next(v for v in report.violations if v.table == "public.products")
    assert "create trigger products_audit after update or delete" in products.fix  # 017
    assert "storedb:not-audited" in products.fix

    assert result.code == 3, result.out + result.err
    payload = json.loads(result.out)["tenancy"]
    assert {(v["table"], v["rule"]) for v in payload["violations"]} == SECURITY_EXPECTED


def test_column_privilege_beyond_the_list_is_named(owner_dsn, migrated_db):
    migrated_db.execute("grant update (verified_at, verification_token) on tenant_domains "
                        "to storedb_app")
    migrated_db.commit()
    report = storedb.check_tenancy(owner_dsn)
    assert [(v.table, v.rule) for v in report.violations] == [
        ("table public.tenant_domains", "grants")]
    assert "UPDATE (verification_token, verified_at)" in report.violations[0].message
    assert report.violations[0].fix.startswith(
        "revoke update (verification_token, verified_at) on table public.tenant_domains "
        "from storedb_app;")


def test_membership_options_count_from_postgresql_16(owner_dsn, migrated_db):
    # From 16 a grant says what it gives. A CREATEROLE role gets ADMIN alone (no INHERIT, no
    # SET) on each role it creates: the owner that created storedb_app acts as nobody through
    # it, so it is no app role. BYPASSRLS is an attribute, never inherited: only SET ROLE
    # reaches it.
    if migrated_db.info.server_version < 160000:
        pytest.skip("grant options (INHERIT, SET) are PostgreSQL 16's; this server is older")
    migrated_db.autocommit = True
    migrated_db.execute("create role i15_admin_only in role storedb_definer")
    migrated_db.execute("create role i15_inherits")
    migrated_db.execute("create role i15_super superuser")
    try:
        migrated_db.execute("grant storedb_app to i15_admin_only "
                            "with admin option, inherit false, set false")
        migrated_db.execute("grant storedb_app to i15_inherits with inherit true, set false")
        migrated_db.execute("grant storedb_definer to i15_inherits "
                            "with admin option, inherit false, set false")
        assert not storedb.check_tenancy(owner_dsn).violations
        # an app role that inherits storedb_app, even without SET, is an app role
        migrated_db.execute("grant storedb_app to i15_super with inherit true, set false")
        # and one allowed to SET ROLE storedb_definer steps around RLS
        migrated_db.execute("grant storedb_definer to i15_inherits with set true")
        # an admin-only member that may also SET ROLE storedb_app acts as the app
        migrated_db.execute("grant storedb_app to i15_admin_only with set true")
        report = storedb.check_tenancy(owner_dsn)
        assert sorted((v.table, v.rule) for v in report.violations) == [
            ("role i15_admin_only", "app-role"), ("role i15_inherits", "app-role"),
            ("role i15_super", "app-role")]
    finally:
        for role in ("i15_admin_only", "i15_inherits", "i15_super"):
            migrated_db.execute(f"drop role {role}")


def test_maintain_on_a_table_is_reported_from_postgresql_17(owner_dsn, migrated_db):
    # 17's MAINTAIN lets a role LOCK TABLE, REINDEX or CLUSTER: one store could block them all
    if migrated_db.info.server_version < 170000:
        pytest.skip("MAINTAIN is a PostgreSQL 17 privilege; this server is older")
    migrated_db.execute("grant maintain on orders to storedb_app")
    migrated_db.commit()
    report = storedb.check_tenancy(owner_dsn)
    assert [(v.table, v.rule) for v in report.violations] == [("table public.orders", "grants")]
    assert "MAINTAIN" in report.violations[0].message
    assert report.violations[0].fix.startswith(
        "revoke maintain on table public.orders from storedb_app;")


def test_readme_shows_the_grant_list():
    from storedb.tenancy._grants import markdown_table

    assert markdown_table() in (SQL_DIR / "README.md").read_text()


def test_a_direct_grant_to_an_app_login_role_is_reported(owner_dsn, migrated_db):
    """app_user gets its rights through storedb_app: a grant to it directly is beyond the list."""
    migrated_db.execute("grant insert on audit_log to app_user")
    migrated_db.execute("grant update (verified_at) on tenant_domains to app_user")
    migrated_db.commit()
    report = storedb.check_tenancy(owner_dsn)
    found = sorted((v.table, v.rule, v.fix.split(" (or")[0]) for v in report.violations)
    assert found == [
        ("table public.audit_log", "grants",
         "revoke insert on table public.audit_log from app_user;"),
        ("table public.tenant_domains", "grants",
         "revoke update (verified_at) on table public.tenant_domains from app_user;")]
    assert all("app_user (member of storedb_app) holds" in v.message for v in report.violations)
