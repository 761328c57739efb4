-- =============================================================================
-- migrations/006_harden_security_definer.sql — definer functions the app cannot hijack
-- =============================================================================
-- Purpose
--   Close what a holder of the application's credentials (a login role in
--   storedb_app) could do through the SECURITY DEFINER functions and the
--   domain table (issue 9):
--   1. search_path. A function whose search_path is `pg_catalog, public`
--      searches the session's temporary schema FIRST for tables, views and
--      types (pg_temp is searched first unless listed). The app has TEMP, so
--      `create temp table tenants (...)` with a trigger of its own made
--      soft_delete_tenant() run app code as storedb_definer (BYPASSRLS), a
--      temp audit_log swallowed audit rows, a temp view products ran app code
--      through search_products(). Every SECURITY DEFINER function is restated
--      here with `set search_path = pg_catalog, public, pg_temp` (pg_temp
--      LAST: only names found nowhere else could come from it, and every name
--      these functions use exists in public) and its tables schema-qualified.
--      The plain (invoker) functions that pin a search_path get pg_temp last
--      too: they run as the definer when a definer function's write fires
--      them.
--   2. Oracles across stores. soft_delete_tenant() answered "not found" for
--      an unknown id but "cannot be deleted from the context of store ..." for
--      another store's id; it now checks the scope first and gives the same
--      P0002 "tenant ... not found" for both, without touching (or locking)
--      the other store's row. create_tenant(p_id => <existing id>) re-raised
--      the primary key violation whose DETAIL printed the key; it now raises
--      unique_violation tenants_pkey with no DETAIL.
--   3. Hostname takeover. storedb_app could write tenant_domains.verified_at,
--      and resolve_store_id() prefers a verified custom domain, so a store
--      could verify '<other store>.<platform domain>' for itself. Now:
--      * column privileges: the app inserts (id, store_id, domain, is_primary)
--        and updates is_primary only; verified_at and verification_token are
--        written by the platform only, through verify_tenant_domain() (not
--        executable by storedb_app: grant it to the platform's verifier role);
--      * platform_domains lists the platform's own domains (seeded with
--        storedb.io and localhost; a DBA adds the real one). A BEFORE trigger
--        rejects a tenant domain equal to or under one of them
--        (check_violation tenant_domains_platform_domain_check), and resets
--        verified_at when a domain is changed;
--      * resolve_store_id() never routes a host under a platform domain by
--        tenant_domains (legacy rows included): such a host is always
--        <subdomain>.<platform domain>.
--   4. check --tenancy markers: tables deliberately without an audit trigger
--      say so in their comment ('storedb:not-audited ...').
--
-- TEMP for storedb_app: kept (PUBLIC has it by default). Revoking it is not
--   done here on purpose: TEMP is a database privilege (`revoke temporary on
--   database <name> from public`), it needs the database owner, it names the
--   database, it is not copied by CREATE DATABASE ... TEMPLATE nor restored
--   by a plain pg_dump, and it affects every role of the database. The
--   protection therefore lives in the functions themselves (pg_temp last),
--   which `storedb check --tenancy` enforces for every SECURITY DEFINER
--   function. A DBA may still revoke TEMP as extra hardening (README).
--
-- Creates
--   table     : platform_domains (domain text primary key)
--   functions : verify_tenant_domain(text) — SECURITY DEFINER, storedb_definer,
--               executable by nobody but its owner until granted;
--               tenant_domains_guard() (trigger) and trigger
--               tenant_domains_guard on tenant_domains
-- Changes
--   functions : audit_trigger(), create_tenant(...), soft_delete_tenant(uuid),
--               resolve_store_id(text), search_products(text, integer)
--               replaced (same signatures, owner and grants kept);
--               search_path of update_updated_at_column(), generate_slug(text),
--               validate_timezone(), products_before_write(),
--               orders_assign_display_id() gets pg_temp last
--   privileges: tenant_domains: storedb_app loses table-wide INSERT/UPDATE,
--               gets INSERT (id, store_id, domain, is_primary), UPDATE
--               (is_primary); storedb_definer gets UPDATE (verified_at)
--               and SELECT on platform_domains
--   comments  : order_display_id_counters, audit_log (storedb:not-audited)
--
-- Depends on
--   00_base.sql, 01_tenants.sql, 003 (roles, definer functions), 005
--   (search_products). Run by the schema owner, a member of storedb_definer
--   (it owns the definer functions: replacing one needs that membership).
--
-- Locks
--   Existing table: tenant_domains. REVOKE/GRANT only update its ACL in the
--   catalog (no table lock); CREATE TRIGGER takes SHARE ROW EXCLUSIVE on it
--   until this file commits: writes to tenant_domains wait that long, reads
--   (resolve_store_id) do not. COMMENT ON TABLE takes SHARE UPDATE EXCLUSIVE
--   on order_display_id_counters and audit_log (writes and reads continue).
--   CREATE OR REPLACE FUNCTION takes no table lock; a session calling one of
--   them sees the old or the new body. Short file, no data scanned. The
--   runner's short lock_timeout (--statement-lock-timeout) and retries apply.
--
-- Undo
--   Never edit this file once applied. A future migration may replace these
--   functions again (restating `security definer set search_path =
--   pg_catalog, public, pg_temp`), drop trigger tenant_domains_guard and
--   table platform_domains. Do not undo the search_path or the column
--   privileges: they are the fix.
--
-- Changing safely
--   * Every future SECURITY DEFINER function: owned by storedb_definer,
--     `set search_path = pg_catalog, public, pg_temp` (or '' with every name
--     schema-qualified), `revoke all on function ... from public`, EXECUTE
--     granted explicitly. `create or replace` resets SECURITY DEFINER and SET
--     clauses: restate them. check --tenancy reports a definer whose
--     search_path does not end in pg_temp.
--   * A new privilege for storedb_app: add it to the grant list
--     (storedb/tenancy/_grants.py and infra/db/README.md), or check --tenancy
--     reports it.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- platform_domains: the platform's own domains (not a tenant table)
-- -----------------------------------------------------------------------------
create table platform_domains (
  domain     text        not null,
  created_at timestamptz not null default now(),

  constraint platform_domains_pkey primary key (domain),
  constraint platform_domains_domain_check
    check (length(domain) <= 253
           and domain ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z]([a-z0-9-]{0,61}[a-z0-9])?$')
);

comment on table platform_domains is
  'Domains the platform itself serves: stores live at <subdomain>.<domain>. No store may claim '
  'a hostname equal to or under one of them as a custom domain (tenant_domains_guard). '
  'Maintained by the DBA: insert into platform_domains (domain) values (''shops.example.com'');';
comment on column platform_domains.domain is 'Lower-case domain, e.g. storedb.io.';

insert into platform_domains (domain) values ('storedb.io'), ('localhost');

revoke all on table platform_domains from public;
grant select on table platform_domains to storedb_app, storedb_definer;


-- -----------------------------------------------------------------------------
-- tenant_domains: the app may no longer verify a domain
-- -----------------------------------------------------------------------------
-- Safe: the app keeps SELECT and DELETE; INSERT and UPDATE become column
-- privileges that leave out verified_at and verification_token.
revoke insert, update on table tenant_domains from storedb_app;
grant insert (id, store_id, domain, is_primary), update (is_primary)
  on table tenant_domains to storedb_app;
grant update (verified_at) on table tenant_domains to storedb_definer;

-- tenant_domains_guard(): BEFORE INSERT/UPDATE OF domain. Runs as the caller
-- (the app reads platform_domains); error carries a constraint name so a
-- client can map it like a CHECK violation.
create or replace function tenant_domains_guard()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_platform text;
begin
  select p.domain
    into v_platform
    from public.platform_domains p
   where new.domain = p.domain
      or right(new.domain, length(p.domain) + 1) = '.' || p.domain
   limit 1;
  if found then
    raise exception using
      errcode    = 'check_violation',
      constraint = 'tenant_domains_platform_domain_check',
      table      = 'tenant_domains',
      column     = 'domain',
      message    = format('domain "%s" is under the platform domain %s', new.domain, v_platform),
      hint       = format('a store is reached at <subdomain>.%s already; add a domain of your own',
                          v_platform);
  end if;
  if tg_op = 'UPDATE' and new.domain is distinct from old.domain then
    new.verified_at := null;  -- a new hostname must be verified anew
  end if;
  return new;
end;
$$;

comment on function tenant_domains_guard() is
  'BEFORE INSERT/UPDATE OF domain on tenant_domains: rejects a hostname under a platform '
  'domain (tenant_domains_platform_domain_check); a changed domain loses its verification.';

-- firing a trigger needs no EXECUTE: nobody is granted it
revoke all on function tenant_domains_guard() from public;

create trigger tenant_domains_guard
  before insert or update of domain on tenant_domains
  for each row execute function tenant_domains_guard();


-- -----------------------------------------------------------------------------
-- SECURITY DEFINER functions, restated with pg_temp last
-- -----------------------------------------------------------------------------
-- `create or replace` keeps owner (storedb_definer) and grants; it resets
-- SECURITY DEFINER and SET, which are therefore stated on each.

-- audit_trigger(): body as in 00_base.sql, tables qualified.
create or replace function audit_trigger()
  returns trigger
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_old      jsonb;
  v_new      jsonb;
  v_row      jsonb;
  v_store_id uuid;
  v_key      jsonb;
  v_changed  text[];
begin
  if tg_level <> 'ROW' or tg_when <> 'AFTER' then
    raise exception 'audit_trigger() must be an AFTER ... FOR EACH ROW trigger (table %.%)',
      tg_table_schema, tg_table_name;
  end if;

  if tg_op in ('UPDATE', 'DELETE') then
    v_old := to_jsonb(old);
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    v_new := to_jsonb(new);
  end if;

  if tg_op = 'UPDATE' and v_old = v_new then
    return null;  -- no-op update: nothing to record
  end if;

  v_row := coalesce(v_new, v_old);

  if tg_table_name = 'tenants' then
    v_store_id := (v_row ->> 'id')::uuid;
  elsif v_row ? 'store_id' then
    v_store_id := (v_row ->> 'store_id')::uuid;
  else
    raise exception using
      errcode = 'feature_not_supported',
      message = format('audit_trigger(): table %I.%I has no store_id column and is not tenants',
                       tg_table_schema, tg_table_name),
      hint    = 'audit_trigger() can only be attached to tenant tables.';
  end if;

  if tg_op = 'DELETE'
     and not exists (select 1 from public.tenants t where t.id = v_store_id) then
    return null;  -- the tenant itself is being hard-deleted
  end if;

  select jsonb_object_agg(a.attname, v_row -> a.attname::text)
    into v_key
    from pg_catalog.pg_index i
         cross join lateral unnest(i.indkey::int2[]) as k (attnum)
         join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
   where i.indrelid = tg_relid
     and i.indisprimary;

  if v_key is null then
    raise exception using
      errcode = 'feature_not_supported',
      message = format('audit_trigger(): table %I.%I has no primary key',
                       tg_table_schema, tg_table_name);
  end if;

  if tg_op = 'UPDATE' then
    select array_agg(n.key order by n.key)
      into v_changed
      from jsonb_each(v_new) as n (key, value)
     where n.value is distinct from v_old -> n.key;
  end if;

  insert into public.audit_log
    (store_id, table_name, operation, row_key, old_row, new_row, changed_columns,
     db_user, db_session_user)
  values
    (v_store_id, tg_table_name, lower(tg_op), v_key, v_old, v_new, v_changed,
     coalesce(nullif(current_setting('role'), 'none'), session_user), session_user);

  return null;
end;
$$;


-- create_tenant(): as in 01_tenants.sql; an id that exists already gives
-- unique_violation tenants_pkey WITHOUT the key in DETAIL.
create or replace function create_tenant(
  p_subdomain     text,
  p_name          text,
  p_plan          subscription_plan default 'free',
  p_locale        text              default 'en-US',
  p_timezone      text              default 'UTC',
  p_currency_code text              default 'USD',
  p_config        jsonb             default '{}',
  p_id            uuid              default null
)
  returns uuid
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_subdomain  text := p_subdomain;
  v_store_id   uuid;
  v_constraint text;
begin
  begin
    insert into public.tenants
      (id, subdomain, name, subscription_plan, subscription_status, trial_ends_at)
    values (coalesce(p_id, gen_random_uuid()),
            v_subdomain,
            btrim(p_name),
            p_plan,
            case when p_plan = 'free' then 'active' else 'trialing' end::public.subscription_status,
            case when p_plan = 'free' then null else now() + interval '14 days' end)
    returning id into v_store_id;
  exception
    when unique_violation then
      get stacked diagnostics v_constraint = constraint_name;
      if v_constraint = 'tenants_subdomain_key' then
        raise exception using
          errcode    = 'unique_violation',
          constraint = 'tenants_subdomain_key',
          table      = 'tenants',
          message    = format('subdomain "%s" is already taken', v_subdomain),
          hint       = 'choose another subdomain';
      end if;
      -- tenants_pkey: p_id is taken. No DETAIL (it would print the key).
      raise exception using
        errcode    = 'unique_violation',
        constraint = v_constraint,
        table      = 'tenants',
        message    = 'the requested tenant id cannot be used',
        hint       = 'pass no id (p_id => null) to have one drawn';
    when check_violation then
      get stacked diagnostics v_constraint = constraint_name;
      if v_constraint = 'tenants_subdomain_check' then
        raise exception using
          errcode    = 'check_violation',
          constraint = 'tenants_subdomain_check',
          table      = 'tenants',
          message    = format('subdomain "%s" is not a valid DNS label', v_subdomain),
          hint       = 'use 1-63 lower-case characters a-z, 0-9 and "-", not starting or ending with "-"';
      elsif v_constraint = 'tenants_subdomain_reserved_check' then
        raise exception using
          errcode    = 'check_violation',
          constraint = 'tenants_subdomain_reserved_check',
          table      = 'tenants',
          message    = format('subdomain "%s" is reserved', v_subdomain),
          hint       = 'choose another subdomain';
      end if;
      raise;
  end;

  insert into public.store_configs (store_id, config)
  values (v_store_id, coalesce(p_config, '{}'));

  insert into public.tenant_settings (store_id, locale, timezone, currency_code)
  values (v_store_id, p_locale, p_timezone, upper(btrim(p_currency_code)));

  return v_store_id;
end;
$$;


-- soft_delete_tenant(): the scope is checked first. Another store's id and an
-- unknown id give the same P0002 "tenant <id> not found"; another store's row
-- is neither read nor locked.
create or replace function soft_delete_tenant(p_tenant_id uuid)
  returns void
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_deleted_at timestamptz;
  v_scope      uuid := public.get_current_store_id();
begin
  if v_scope is not null and v_scope is distinct from p_tenant_id then
    raise exception using
      errcode = 'no_data_found',
      message = format('tenant %s not found', p_tenant_id);
  end if;

  select t.deleted_at
    into v_deleted_at
    from public.tenants t
   where t.id = p_tenant_id
     for update;

  if not found then
    raise exception using
      errcode = 'no_data_found',
      message = format('tenant %s not found', p_tenant_id);
  end if;

  if v_deleted_at is not null then
    raise exception using
      errcode = 'object_not_in_prerequisite_state',
      message = format('tenant %s is already deleted', p_tenant_id);
  end if;

  update public.tenants
     set deleted_at = now(),
         status     = 'archived'
   where id = p_tenant_id;
end;
$$;

comment on function soft_delete_tenant(uuid) is
  'Soft-deletes a tenant (deleted_at = now(), status = archived), releasing its subdomain. '
  'Deletes no data. Inside a store''s scope only that store; another store''s id is '
  '"not found" like an unknown one. SECURITY DEFINER (storedb_definer).';


-- resolve_store_id(): a host under a platform domain is never routed by
-- tenant_domains, only as <subdomain>.<platform domain>.
create or replace function resolve_store_id(p_host text)
  returns uuid
  language plpgsql
  stable
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_host     text := lower(btrim(p_host));
  v_store_id uuid;
begin
  v_host := rtrim(regexp_replace(v_host, ':[0-9]+$', ''), '.');
  if v_host is null or v_host = '' then
    return null;
  end if;

  if not exists (select 1
                   from public.platform_domains p
                  where v_host = p.domain
                     or right(v_host, length(p.domain) + 1) = '.' || p.domain) then
    select d.store_id
      into v_store_id
      from public.tenant_domains d
           join public.tenants t on t.id = d.store_id
     where d.domain = v_host
       and d.verified_at is not null
       and t.deleted_at is null;
    if found then
      return v_store_id;
    end if;
  end if;

  select t.id
    into v_store_id
    from public.tenants t
   where t.subdomain = split_part(v_host, '.', 1)
     and t.deleted_at is null;
  return v_store_id;  -- NULL when not found
end;
$$;

comment on function resolve_store_id(text) is
  'Maps a request host to a live store id: verified custom domain first (never for a host '
  'under platform_domains), then <subdomain>.<anything> or bare subdomain; NULL when unknown. '
  'SECURITY DEFINER (storedb_definer).';


-- search_products(): as in 005, products qualified.
create or replace function search_products(p_query text, p_limit integer default 50)
  returns setof products
  language plpgsql
  stable
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  return query
    select p.*
    from public.products p
    where p.store_id = public.get_current_store_id()
      and p.deleted_at is null
      and p.title ilike '%' || replace(replace(replace(coalesce(p_query, ''),
                       '\', '\\'), '%', '\%'), '_', '\_') || '%'
    order by similarity(p.title, p_query) desc, p.created_at desc, p.id
    limit greatest(1, least(coalesce(p_limit, 50), 500));
end;
$$;


-- verify_tenant_domain(): the platform's verifier (after checking the DNS TXT
-- record holds verification_token) marks a domain verified. Not executable by
-- storedb_app: grant EXECUTE to the verifier's own role.
create or replace function verify_tenant_domain(p_domain text)
  returns uuid
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_store_id uuid;
begin
  update public.tenant_domains d
     set verified_at = coalesce(d.verified_at, now())
   where d.domain = lower(btrim(p_domain))
  returning d.store_id into v_store_id;
  if not found then
    raise exception using
      errcode = 'no_data_found',
      message = format('domain "%s" not found', p_domain);
  end if;
  return v_store_id;
end;
$$;

comment on function verify_tenant_domain(text) is
  'Platform only: marks a custom domain verified (after its DNS TXT record was checked); '
  'returns its store. SECURITY DEFINER (storedb_definer); not granted to storedb_app.';

-- Handing the function to storedb_definer needs CREATE on the schema for that
-- role (superusers are exempt): granted for this transaction only, as in 003.
do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not has_schema_privilege('storedb_definer', 'public', 'create') then
    grant create on schema public to storedb_definer;
    perform set_config('storedb.revoke_definer_create', 'on', true);
  end if;
end;
$$;

alter function verify_tenant_domain(text) owner to storedb_definer;
revoke all on function verify_tenant_domain(text) from public;

do $$
begin
  if current_setting('storedb.revoke_definer_create', true) = 'on' then
    revoke create on schema public from storedb_definer;
  end if;
end;
$$;


-- -----------------------------------------------------------------------------
-- Plain functions with a pinned search_path: pg_temp last as well
-- -----------------------------------------------------------------------------
-- They run as storedb_definer when a definer function's write fires them.
alter function update_updated_at_column() set search_path = pg_catalog, public, pg_temp;
alter function generate_slug(text) set search_path = pg_catalog, public, pg_temp;
alter function validate_timezone() set search_path = pg_catalog, public, pg_temp;
alter function products_before_write() set search_path = pg_catalog, public, pg_temp;
alter function orders_assign_display_id() set search_path = pg_catalog, public, pg_temp;


-- -----------------------------------------------------------------------------
-- Tables without an audit trigger on purpose (check --tenancy honours the marker)
-- -----------------------------------------------------------------------------
comment on table order_display_id_counters is
  'Per-store counter behind orders.display_id, maintained by orders_assign_display_id(). '
  'Its row lock serialises concurrent order inserts of one store only. '
  'storedb:not-audited derived data.';
comment on table audit_log is
  'Append-only history of row changes on tenant tables, written only by audit_trigger() '
  '(SECURITY DEFINER, owned by storedb_definer since 003). The application may only '
  'select (own store, RLS): it can neither insert (no forged rows) nor update/delete. '
  'storedb:not-audited it is the audit trail.';
