-- =============================================================================
-- migrations/011_soft_delete.sql — a soft-deleted store is invisible, read-only, and restorable
-- =============================================================================
-- Purpose
--   Issue 16, point 5. After soft_delete_tenant() the application could still
--   read and write the store's rows, its verified custom domains stayed taken
--   forever, status and deleted_at could disagree, and restoring a tenant
--   whose subdomain had been reused had no procedure.
--   * current_store_is_live(): false when the session's store is soft-deleted.
--     A RESTRICTIVE policy <table>_live_store `to storedb_app` on every tenant
--     table ANDs it with the store isolation policy: for the app a deleted
--     store's rows are invisible and nothing can be written into it. It is
--     written `(select current_store_is_live())`: an uncorrelated sub-select
--     is an InitPlan, evaluated once per statement, where a bare call would
--     run per row (security quals are never turned into one-time filters).
--     check --tenancy accepts exactly this sub-select in a restrictive
--     policy (it reads no table row of the policy's table). tenants itself
--     keeps its row readable (the app can show "this store was deleted on
--     ...", and the DAO reads it back after soft_delete_tenant()) but not
--     writable. The owner and platform functions are not affected (offboarding,
--     restore and exports run as the owner).
--   * trigger tenants_release_domains: when a tenant is soft-deleted its
--     custom domains lose their verification (verified_at = NULL), so another
--     store can verify them; a restored store verifies them again.
--   * tenants_status_deleted_at_check, users_status_deleted_at_check:
--     `status = 'archived'` exactly when deleted_at is set. Added NOT VALID
--     (new and updated rows are checked at once); 013 repairs old rows and
--     validates.
--   * restore_tenant(id, new_subdomain default NULL): the documented restore
--     (infra/db/README.md, "Restoring a tenant"). If the old subdomain went to
--     another store meanwhile, it refuses with a hint unless a new subdomain
--     is given.
--
-- Creates
--   functions : current_store_is_live(), restore_tenant(uuid, text) (SECURITY
--               DEFINER, storedb_definer; restore_tenant not granted to the app),
--               tenants_release_domains() (trigger function)
--   policies  : <table>_live_store (AS RESTRICTIVE, TO storedb_app) on the 11
--               tenant tables
--   trigger   : tenants_release_domains (AFTER UPDATE OF deleted_at on tenants)
--   checks    : tenants_status_deleted_at_check, users_status_deleted_at_check
--               (NOT VALID)
--
-- Depends on
--   003, 004, 006 (definer rules; storedb_definer's UPDATE (verified_at) on
--   tenant_domains), 009 (partitioned audit_log).
--
-- Locks (in this order; taken by the first two statements)
--   CREATE POLICY and ADD CONSTRAINT take ACCESS EXCLUSIVE. First tenants
--   (waits at most the runner's lock_timeout), then, NOWAIT, the ten other
--   tenant tables: store_configs, tenant_domains, tenant_settings, products,
--   orders, order_line_items, order_display_id_counters, audit_log, users,
--   user_preferences. If any of them is in use at that instant the file fails
--   at once (55P03) and the runner rolls it back and retries
--   (--lock-retries): no ACCESS EXCLUSIVE lock is ever held while waiting for
--   another. Once taken, all are held until commit; the file scans no data
--   (NOT VALID), so that is milliseconds. Run it at a quiet moment: under
--   constant traffic NOWAIT on eleven tables may need several retries.
--
-- Undo
--   Never edit this file once applied. A later migration: drop policy
--   <table>_live_store on each table (the app sees deleted stores again),
--   drop trigger tenants_release_domains, drop the two checks.
--
-- Changing safely
--   * A NEW tenant table gets its <table>_live_store policy in its own
--     migration, like its isolation policy.
--   * Soft-delete a user with both columns:
--     `update users set status = 'archived', deleted_at = now() where ...`.
-- =============================================================================

lock table tenants in access exclusive mode;
lock table store_configs, tenant_domains, tenant_settings, products, orders, order_line_items,
           order_display_id_counters, audit_log, users, user_preferences
  in access exclusive mode nowait;


-- -----------------------------------------------------------------------------
-- current_store_is_live()
-- -----------------------------------------------------------------------------
-- SECURITY DEFINER: it must read the tenants row whatever the caller's
-- policies say (a policy on tenants that read tenants as the caller would
-- recurse). True when no store is set or the store does not exist: the
-- isolation policy then shows nothing anyway.
create function current_store_is_live()
  returns boolean
  language sql
  stable
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
  select not exists (select 1
                       from public.tenants t
                      where t.id = public.get_current_store_id()
                        and t.deleted_at is not null);
$$;

comment on function current_store_is_live() is
  'false when the session''s store (get_current_store_id()) is soft-deleted. Used by the '
  'restrictive <table>_live_store policies. SECURITY DEFINER (storedb_definer).';


-- -----------------------------------------------------------------------------
-- Restrictive policies: the app sees nothing of a deleted store
-- -----------------------------------------------------------------------------
create policy tenants_live_store on tenants as restrictive for update to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));
create policy store_configs_live_store on store_configs as restrictive to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));
create policy tenant_domains_live_store on tenant_domains as restrictive to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));
create policy tenant_settings_live_store on tenant_settings as restrictive to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));
create policy products_live_store on products as restrictive to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));
create policy orders_live_store on orders as restrictive to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));
create policy order_line_items_live_store on order_line_items as restrictive to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));
create policy order_display_id_counters_live_store on order_display_id_counters
  as restrictive to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));
create policy audit_log_live_store on audit_log as restrictive to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));
create policy users_live_store on users as restrictive to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));
create policy user_preferences_live_store on user_preferences as restrictive to storedb_app
  using ((select current_store_is_live())) with check ((select current_store_is_live()));


-- -----------------------------------------------------------------------------
-- status and deleted_at agree (validated in 013)
-- -----------------------------------------------------------------------------
alter table tenants
  add constraint tenants_status_deleted_at_check
  check ((status = 'archived') = (deleted_at is not null)) not valid;
alter table users
  add constraint users_status_deleted_at_check
  check ((status = 'archived') = (deleted_at is not null)) not valid;


-- -----------------------------------------------------------------------------
-- A deleted store releases its custom domains
-- -----------------------------------------------------------------------------
create function tenants_release_domains()
  returns trigger
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  update public.tenant_domains d
     set verified_at = null
   where d.store_id = new.id
     and d.verified_at is not null;
  return null;
end;
$$;

comment on function tenants_release_domains() is
  'AFTER UPDATE OF deleted_at on tenants, when a tenant is soft-deleted: its custom domains '
  'lose their verification, so another store may verify them. SECURITY DEFINER (storedb_definer).';

create trigger tenants_release_domains
  after update of deleted_at on tenants
  for each row when (old.deleted_at is null and new.deleted_at is not null)
  execute function tenants_release_domains();


-- -----------------------------------------------------------------------------
-- restore_tenant(): undo a soft delete
-- -----------------------------------------------------------------------------
-- Errors: P0002 unknown tenant; 55000 not deleted; 23505 tenants_subdomain_key
-- when its subdomain belongs to a live store now and no p_new_subdomain is
-- given. Custom domains come back unverified: verify them again.
create function restore_tenant(p_tenant_id uuid, p_new_subdomain text default null)
  returns text
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_tenant    public.tenants%rowtype;
  v_subdomain text;
begin
  select * into v_tenant from public.tenants t where t.id = p_tenant_id for update;
  if not found then
    raise exception using
      errcode = 'no_data_found',
      message = format('tenant %s not found', p_tenant_id);
  end if;
  if v_tenant.deleted_at is null then
    raise exception using
      errcode = 'object_not_in_prerequisite_state',
      message = format('tenant %s is not deleted', p_tenant_id);
  end if;

  v_subdomain := coalesce(p_new_subdomain, v_tenant.subdomain);
  if exists (select 1 from public.tenants t
              where t.subdomain = v_subdomain and t.deleted_at is null) then
    raise exception using
      errcode    = 'unique_violation',
      constraint = 'tenants_subdomain_key',
      table      = 'tenants',
      message    = format('subdomain "%s" belongs to another store now', v_subdomain),
      hint       = format('restore with a new subdomain: select restore_tenant(%L, ''<new subdomain>'');',
                          p_tenant_id);
  end if;

  update public.tenants
     set deleted_at = null,
         status     = 'active',
         subdomain  = v_subdomain
   where id = p_tenant_id;
  return v_subdomain;
end;
$$;

comment on function restore_tenant(uuid, text) is
  'Platform only: undoes soft_delete_tenant(); with p_new_subdomain when the old one was reused. '
  'Returns the subdomain. Custom domains must be verified again. SECURITY DEFINER '
  '(storedb_definer); not granted to storedb_app.';


-- -----------------------------------------------------------------------------
-- Owners and privileges (pattern of 003)
-- -----------------------------------------------------------------------------
do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not has_schema_privilege('storedb_definer', 'public', 'create') then
    grant create on schema public to storedb_definer;
    perform set_config('storedb.revoke_definer_create', 'on', true);
  end if;
end;
$$;

alter function current_store_is_live() owner to storedb_definer;
alter function tenants_release_domains() owner to storedb_definer;
alter function restore_tenant(uuid, text) owner to storedb_definer;

do $$
begin
  if current_setting('storedb.revoke_definer_create', true) = 'on' then
    revoke create on schema public from storedb_definer;
  end if;
end;
$$;

revoke all on function current_store_is_live(), tenants_release_domains(),
                       restore_tenant(uuid, text) from public;
-- policies run their functions as the querying role
grant execute on function current_store_is_live() to storedb_app;
