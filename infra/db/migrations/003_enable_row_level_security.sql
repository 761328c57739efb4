-- =============================================================================
-- migrations/003_enable_row_level_security.sql — roles, privileges and RLS
-- =============================================================================
-- Purpose
--   Tenant isolation in the database: every tenant table only shows and
--   accepts rows of the store set with set_current_store_id(), for every role
--   including the table owner (FORCE). Platform functions that must see all
--   tenants run as SECURITY DEFINER under a dedicated BYPASSRLS role.
--
-- Creates (cluster-wide, only if missing; safe when several databases of one
-- server run this file at once)
--   roles     : storedb_app     NOLOGIN, no BYPASSRLS, owns nothing: granted
--                               to the application's login roles
--               storedb_definer NOLOGIN BYPASSRLS: owns the SECURITY DEFINER
--                               functions only (platform functions and
--                               audit_trigger)
-- Changes
--   RLS enabled + forced, one policy <table>_store_isolation each, on:
--     tenants, store_configs, tenant_domains, tenant_settings, products,
--     orders, order_line_items, order_display_id_counters, audit_log
--   privileges: revoke all from public; grants to storedb_app and
--     storedb_definer (see "Privileges")
--   functions : create_tenant, soft_delete_tenant, resolve_store_id and
--     audit_trigger become SECURITY DEFINER owned by storedb_definer; execute
--     on every storedb function revoked from public and granted to the roles
--     that need it (audit_trigger: to nobody, triggers fire without it).
--   audit_log : the app may only select; audit_trigger() writes it as
--     storedb_definer.
--
-- Depends on
--   00_base.sql, 01_tenants.sql, 001, 002. Creating storedb_definer needs a
--   superuser (BYPASSRLS); if it already exists a role with CREATEROLE that
--   owns the tables is enough.
--
-- Locks
--   ACCESS EXCLUSIVE on every existing tenant table: tenants, store_configs,
--   tenant_domains, tenant_settings, products, orders, order_line_items,
--   order_display_id_counters, audit_log (taken by ALTER TABLE ... ROW LEVEL
--   SECURITY and CREATE POLICY), each held until this file's transaction
--   commits: for that long every access to these tables waits, reads
--   included. No data is rewritten or scanned, so the file itself is short.
--   GRANT/REVOKE and ALTER FUNCTION take no table lock; CREATE ROLE and the
--   role GRANT touch the cluster-wide catalogs (another database migrating
--   at the same time waits for this commit, see "Roles"). The runner runs
--   the file with a short lock_timeout (--statement-lock-timeout, 5 s): it
--   never queues behind a long transaction on these tables for longer, which
--   would stall the application queued behind it; on a timeout the file is
--   rolled back and retried (--lock-retries).
--
-- Undo
--   Never edit this file once applied. Undo with a new migration: `drop policy
--   <table>_store_isolation on <table>`, `alter table <table> no force row
--   level security, disable row level security`, `alter function ... security
--   invoker owner to <owner>` (for audit_trigger() also `grant insert on
--   audit_log to storedb_app`, or application writes fail). Roles are
--   cluster-wide and may serve other databases: drop them only after checking
--   `pg_shdepend`.
--
-- Changing safely
--   * Every NEW tenant table must, in its own migration: enable + force RLS,
--     create exactly one policy <table>_store_isolation (no sub-selects),
--     revoke all from public, grant the DML it needs to storedb_app.
--   * New functions: revoke execute from public, grant to storedb_app (and to
--     storedb_definer if a SECURITY DEFINER function or trigger calls it).
--   * Policies must stay simple `store_id = get_current_store_id()`
--     comparisons: they are evaluated per row and are index-friendly.
--   * New cluster-wide roles: the pattern of the "Roles" block below (check,
--     then create inside begin ... exception when duplicate_object or
--     unique_violation then null; end), never a bare check-then-create.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- Roles (cluster-wide; created only if missing, safe under concurrency)
-- -----------------------------------------------------------------------------
-- Several databases of one server may run this file at the same time (fleet
-- mode: `storedb migrate --dsn ... --dsn ...`). Roles are shared by all of
-- them, so "check, then create" alone races: both see no role, both create
-- it, the loser fails on pg_authid_rolname_index. Every CREATE ROLE (and the
-- membership GRANT) therefore treats "it exists already" as success:
--   duplicate_object (42710)  the other transaction committed before ours looked
--   unique_violation (23505)  it committed while ours waited on the index entry
-- The existence check stays in front: CREATE ROLE checks privileges before
-- existence, so a role without CREATEROLE (or without the right to create a
-- BYPASSRLS role) must not even try when the role exists already.
do $$
declare
  v_is_superuser boolean;
begin
  select r.rolsuper into v_is_superuser from pg_roles r where r.rolname = current_user;

  if not exists (select 1 from pg_roles where rolname = 'storedb_app') then
    begin
      create role storedb_app nologin nobypassrls;
      comment on role storedb_app is
        'storedb: group role of application login roles. Subject to RLS; call set_current_store_id() in every transaction.';
    exception
      when duplicate_object or unique_violation then
        null;  -- created meanwhile by another database's migration
      when insufficient_privilege then
        if not exists (select 1 from pg_roles where rolname = 'storedb_app') then
          raise exception using
            errcode = 'insufficient_privilege',
            message = format('role %I may not create the role storedb_app', current_user),
            detail  = format('create role storedb_app failed: %s', sqlerrm),
            hint    = 'migrate as a role with CREATEROLE, or as a superuser run once: '
                      'create role storedb_app nologin;';
        end if;
    end;
  end if;
  if exists (select 1 from pg_roles where rolname = 'storedb_app' and (rolbypassrls or rolsuper)) then
    raise exception using
      errcode = 'invalid_role_specification',
      message = 'role storedb_app exists with BYPASSRLS or SUPERUSER: tenant isolation would not apply',
      hint    = 'alter role storedb_app nosuperuser nobypassrls;';
  end if;

  if not exists (select 1 from pg_roles where rolname = 'storedb_definer') then
    begin
      create role storedb_definer nologin bypassrls;
      comment on role storedb_definer is
        'storedb: BYPASSRLS owner of the SECURITY DEFINER functions (platform functions, audit_trigger) only. NOLOGIN.';
    exception
      when duplicate_object or unique_violation then
        null;  -- created meanwhile by another database's migration
      when insufficient_privilege then
        -- 42501: not allowed to create (a BYPASSRLS) role. CREATE ROLE checks
        -- that before existence, so look again: another session may have
        -- created the role since our check.
        if not exists (select 1 from pg_roles where rolname = 'storedb_definer') then
          raise exception using
            errcode = 'insufficient_privilege',
            message = 'role storedb_definer does not exist and only a superuser can create a BYPASSRLS role',
            detail  = format('create role storedb_definer failed: %s', sqlerrm),
            hint    = format('run as a superuser first: create role storedb_definer nologin bypassrls; grant storedb_definer to %I;',
                             current_user);
        end if;
    end;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'storedb_definer' and rolbypassrls) then
    raise exception using
      errcode = 'invalid_role_specification',
      message = 'role storedb_definer exists without BYPASSRLS: create_tenant() and resolve_store_id() would not see other tenants',
      hint    = 'as a superuser: alter role storedb_definer bypassrls;';
  end if;

  -- ownership of the functions can only be given to a role we are member of
  -- (superusers are members of every role). Concurrent runs as the same role
  -- race like CREATE ROLE does (pg_auth_members is shared too).
  if not pg_has_role(current_user, 'storedb_definer', 'member') then
    begin
      execute format('grant storedb_definer to %I', current_user);
    exception
      when unique_violation then
        null;  -- granted meanwhile by another database's migration
      when insufficient_privilege then
        -- the role exists (made by a superuser, e.g. for another database) but
        -- we may not grant it to ourselves
        raise exception using
          errcode = 'insufficient_privilege',
          message = format('role %I must be a member of storedb_definer to hand it the '
                           'SECURITY DEFINER functions', current_user),
          detail  = format('grant storedb_definer to %I failed: %s', current_user, sqlerrm),
          hint    = format('run as a superuser once: grant storedb_definer to %I;', current_user);
    end;
  end if;

  -- altering a function's owner requires the new owner to have CREATE on the
  -- schema (superusers are exempt): grant it for this transaction only, it is
  -- revoked at the end of this file.
  if not v_is_superuser and not has_schema_privilege('storedb_definer', 'public', 'create') then
    grant create on schema public to storedb_definer;
    perform set_config('storedb.revoke_definer_create', 'on', true);
  end if;
end;
$$;


-- -----------------------------------------------------------------------------
-- Row level security: enable + force (owner too), one policy per table
-- -----------------------------------------------------------------------------
-- tenants has no store_id: a store sees and updates only its own row.
alter table tenants enable row level security;
alter table tenants force row level security;
create policy tenants_store_isolation on tenants
  using (id = get_current_store_id())
  with check (id = get_current_store_id());

alter table store_configs enable row level security;
alter table store_configs force row level security;
create policy store_configs_store_isolation on store_configs
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());

alter table tenant_domains enable row level security;
alter table tenant_domains force row level security;
create policy tenant_domains_store_isolation on tenant_domains
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());

alter table tenant_settings enable row level security;
alter table tenant_settings force row level security;
create policy tenant_settings_store_isolation on tenant_settings
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());

alter table products enable row level security;
alter table products force row level security;
create policy products_store_isolation on products
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());

alter table orders enable row level security;
alter table orders force row level security;
create policy orders_store_isolation on orders
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());

alter table order_line_items enable row level security;
alter table order_line_items force row level security;
create policy order_line_items_store_isolation on order_line_items
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());

alter table order_display_id_counters enable row level security;
alter table order_display_id_counters force row level security;
create policy order_display_id_counters_store_isolation on order_display_id_counters
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());

alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy audit_log_store_isolation on audit_log
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());


-- -----------------------------------------------------------------------------
-- Table privileges
-- -----------------------------------------------------------------------------
-- Safe: PUBLIC is granted nothing on these tables by default; this only makes
-- the starting point explicit before the grants below.
revoke all on table tenants, store_configs, tenant_domains, tenant_settings,
                    products, orders, order_line_items,
                    order_display_id_counters, audit_log
  from public;

grant usage on schema public to storedb_app, storedb_definer;

-- application: business tables of its own store (RLS scopes every row)
grant select, insert, update, delete
  on table products, orders, order_line_items,
           store_configs, tenant_settings, tenant_domains
  to storedb_app;
grant select, update on table tenants to storedb_app;
-- read-only for the app: no update/delete, so history cannot be rewritten, and
-- no insert, so it cannot be forged either. Audit rows are written by
-- audit_trigger(), SECURITY DEFINER owned by storedb_definer (below).
grant select on table audit_log to storedb_app;
-- orders_assign_display_id() upserts the counter as the calling role
grant select, insert, update on table order_display_id_counters to storedb_app;

-- definer: exactly what create_tenant / soft_delete_tenant /
-- resolve_store_id and the triggers they fire (audit, updated_at, timezone)
-- touch. audit_trigger() runs as storedb_definer for every role: it inserts
-- into audit_log and reads tenants on delete.
grant select, insert, update on table tenants to storedb_definer;
grant insert on table store_configs, tenant_settings to storedb_definer;
grant select on table tenant_domains to storedb_definer;
grant insert on table audit_log to storedb_definer;


-- -----------------------------------------------------------------------------
-- Function privileges
-- -----------------------------------------------------------------------------
-- Safe: revoking EXECUTE from PUBLIC only removes the implicit default grant;
-- the roles that need each function are granted it explicitly below.
revoke execute on function
  update_updated_at_column(), generate_slug(text), set_current_store_id(uuid),
  get_current_store_id(), audit_trigger(), validate_timezone(),
  products_before_write(), orders_assign_display_id(),
  create_tenant(text, text, subscription_plan, text, text, text, jsonb, uuid),
  soft_delete_tenant(uuid), resolve_store_id(text)
  from public;

-- Not audit_trigger(): firing a trigger checks no EXECUTE privilege (CREATE
-- TRIGGER does), and with EXECUTE the app could attach this SECURITY DEFINER
-- function to a temporary table of its own and forge audit rows.
grant execute on function
  update_updated_at_column(), generate_slug(text), set_current_store_id(uuid),
  get_current_store_id(), validate_timezone(),
  products_before_write(), orders_assign_display_id(),
  create_tenant(text, text, subscription_plan, text, text, text, jsonb, uuid),
  soft_delete_tenant(uuid), resolve_store_id(text)
  to storedb_app;

-- called by the definer functions and by the triggers they fire
-- (audit_trigger() is owned by storedb_definer, below)
grant execute on function
  update_updated_at_column(), get_current_store_id(), validate_timezone()
  to storedb_definer;


-- -----------------------------------------------------------------------------
-- SECURITY DEFINER functions (run as storedb_definer, bypass RLS)
-- -----------------------------------------------------------------------------
-- audit_trigger(): the only writer of audit_log. It records the store of a row
-- that has just passed the table's RLS policy, and the acting role from the
-- session (see 00_base.sql), not current_user.
alter function audit_trigger()
  security definer set search_path = pg_catalog, public;
alter function audit_trigger()
  owner to storedb_definer;

alter function create_tenant(text, text, subscription_plan, text, text, text, jsonb, uuid)
  security definer set search_path = pg_catalog, public;
alter function create_tenant(text, text, subscription_plan, text, text, text, jsonb, uuid)
  owner to storedb_definer;

alter function soft_delete_tenant(uuid)
  security definer set search_path = pg_catalog, public;
alter function soft_delete_tenant(uuid)
  owner to storedb_definer;

alter function resolve_store_id(text)
  security definer set search_path = pg_catalog, public;
alter function resolve_store_id(text)
  owner to storedb_definer;


-- -----------------------------------------------------------------------------
-- Clean-up of the temporary CREATE grant (non-superuser runs only)
-- -----------------------------------------------------------------------------
do $$
begin
  if current_setting('storedb.revoke_definer_create', true) = 'on' then
    revoke create on schema public from storedb_definer;
  end if;
end;
$$;
