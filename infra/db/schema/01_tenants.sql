-- =============================================================================
-- schema/01_tenants.sql — tenant registry and per-store configuration
-- =============================================================================
-- Purpose
--   The global list of stores (tenants) and their 1:1 configuration, custom
--   domains and settings, plus the functions that create, soft-delete and
--   resolve tenants.
--
-- Creates
--   tables     : tenants, store_configs, tenant_domains, tenant_settings
--   functions  : validate_timezone() (trigger), create_tenant(...),
--                soft_delete_tenant(uuid), resolve_store_id(text)
--   triggers   : <table>_set_updated_at and <table>_audit on the four tables,
--                <table>_validate_timezone on tenant_settings
-- Changes
--   audit_log  : adds audit_log_store_id_fkey (store_id -> tenants, cascade)
--
-- Depends on
--   00_base.sql (enum types, update_updated_at_column(), audit_trigger(),
--   get_current_store_id(), gen_random_uuid()/gen_random_bytes()).
--
-- Locks
--   One existing table: audit_log (00_base.sql). Adding audit_log_store_id_fkey
--   takes SHARE ROW EXCLUSIVE on audit_log (and on the new tenants) and holds
--   it until this file's transaction commits: writes to audit_log wait for
--   that long, reads do not. Nothing writes audit_log yet (no audited table
--   exists before this file) and the validation scan finds it empty.
--   Everything else is new. The runner runs the file with a short
--   lock_timeout (--statement-lock-timeout, 5 s) and, if a lock wait times
--   out, rolls the file back and retries it (--lock-retries).
--
-- Undo
--   Never edit this file once applied. Undo with a new migration dropping the
--   functions, then the tables in reverse order (tenant_settings,
--   tenant_domains, store_configs, tenants) — destructive: every tenant row
--   in every table cascades.
--
-- Changing safely
--   * Reserved subdomains: drop and re-add tenants_subdomain_reserved_check in
--     a new migration, `not valid` first, then `validate constraint`.
--   * Functions: `create or replace` with the same signature. 003 made
--     create_tenant, soft_delete_tenant and resolve_store_id SECURITY DEFINER
--     owned by storedb_definer: `create or replace` keeps owner and grants
--     but resets SECURITY DEFINER and SET clauses, so a replacement must
--     restate `security definer set search_path = pg_catalog, public`.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- tenants: global registry of stores (no store_id: id IS the store id)
-- -----------------------------------------------------------------------------
create table tenants (
  id                  uuid                not null default gen_random_uuid(),
  subdomain           text                not null,
  name                text                not null,
  status              entity_status       not null default 'active',
  subscription_plan   subscription_plan   not null default 'free',
  subscription_status subscription_status not null default 'active',
  trial_ends_at       timestamptz,
  metadata            jsonb               not null default '{}',
  deleted_at          timestamptz,
  created_at          timestamptz         not null default now(),
  updated_at          timestamptz         not null default now(),

  constraint tenants_pkey primary key (id),
  -- DNS label: 1-63 of [a-z0-9-], not starting or ending with '-'
  constraint tenants_subdomain_check
    check (subdomain ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  constraint tenants_subdomain_reserved_check
    check (subdomain <> all (array[
      'www', 'api', 'admin', 'app', 'mail', 'email', 'ftp', 'sftp', 'smtp',
      'imap', 'pop', 'pop3', 'ns', 'ns1', 'ns2', 'ns3', 'ns4', 'dns', 'mx',
      'cdn', 'static', 'assets', 'media', 'img', 'images', 'files',
      'status', 'health', 'metrics', 'help', 'support', 'docs', 'blog',
      'dashboard', 'console', 'billing', 'payments', 'checkout', 'auth',
      'login', 'logout', 'signin', 'signup', 'register', 'account', 'accounts',
      'oauth', 'sso', 'id', 'root', 'system', 'sys', 'storedb', 'localhost',
      'test', 'testing', 'staging', 'stage', 'dev', 'demo', 'sandbox',
      'internal', 'intranet', 'vpn', 'git', 'webhooks', 'hooks', 'graphql',
      'ws', 'socket', 'store', 'stores', 'shop', 'shops'
    ]::text[])),
  constraint tenants_name_check
    check (btrim(name) <> '' and length(name) <= 200),
  constraint tenants_metadata_check
    check (jsonb_typeof(metadata) = 'object')
);

-- A subdomain is taken only while its tenant is live; soft-deleted tenants
-- release it.
create unique index tenants_subdomain_key on tenants (subdomain)
  where deleted_at is null;
create index tenants_status_idx on tenants (status) where deleted_at is null;

comment on table tenants is
  'Global registry of stores. tenants.id is the store_id of every tenant row. '
  'Soft-deleted with soft_delete_tenant(); RLS: a store sees only its own row.';
comment on column tenants.subdomain is
  'DNS label <subdomain>.<platform domain>; lower case; unique among live tenants (tenants_subdomain_key).';
comment on column tenants.name is 'Display name of the store (1-200 chars, not blank).';
comment on column tenants.status is 'active | inactive | suspended | archived (= soft-deleted).';
comment on column tenants.subscription_plan is 'Platform plan.';
comment on column tenants.subscription_status is 'Billing state of the platform subscription.';
comment on column tenants.trial_ends_at is 'End of the trial period when subscription_status = trialing.';
comment on column tenants.metadata is 'Free-form JSON object for platform integrations.';
comment on column tenants.deleted_at is 'Soft-delete time; NULL = live. Set by soft_delete_tenant().';

create trigger tenants_set_updated_at
  before update on tenants
  for each row execute function update_updated_at_column();
create trigger tenants_audit
  after insert or update or delete on tenants
  for each row execute function audit_trigger();


-- -----------------------------------------------------------------------------
-- audit_log gets its tenant foreign key now that tenants exists
-- -----------------------------------------------------------------------------
alter table audit_log
  add constraint audit_log_store_id_fkey
  foreign key (store_id) references tenants (id) on delete cascade;


-- -----------------------------------------------------------------------------
-- store_configs: storefront configuration, exactly one row per tenant
-- -----------------------------------------------------------------------------
create table store_configs (
  id         uuid        not null default gen_random_uuid(),
  store_id   uuid        not null,
  config     jsonb       not null default '{}',
  theme      jsonb       not null default '{}',
  layout     jsonb       not null default '{}',
  features   jsonb       not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),

  constraint store_configs_pkey primary key (store_id, id),
  constraint store_configs_store_id_key unique (store_id),
  constraint store_configs_store_id_fkey
    foreign key (store_id) references tenants (id) on delete cascade,
  constraint store_configs_config_check   check (jsonb_typeof(config) = 'object'),
  constraint store_configs_theme_check    check (jsonb_typeof(theme) = 'object'),
  constraint store_configs_layout_check   check (jsonb_typeof(layout) = 'object'),
  constraint store_configs_features_check check (jsonb_typeof(features) = 'object')
);

create index store_configs_store_id_created_at_idx
  on store_configs (store_id, created_at);

comment on table store_configs is
  'Storefront configuration, 1:1 with tenants (store_configs_store_id_key). Created by create_tenant().';
comment on column store_configs.config is 'General storefront settings (JSON object).';
comment on column store_configs.theme is 'Theme tokens: colours, fonts, logo URLs (JSON object).';
comment on column store_configs.layout is 'Page layout / section configuration (JSON object).';
comment on column store_configs.features is 'Feature flags of the store, e.g. {"reviews": true} (JSON object).';

create trigger store_configs_set_updated_at
  before update on store_configs
  for each row execute function update_updated_at_column();
create trigger store_configs_audit
  after insert or update or delete on store_configs
  for each row execute function audit_trigger();


-- -----------------------------------------------------------------------------
-- tenant_domains: custom hostnames routed to a store
-- -----------------------------------------------------------------------------
-- Domains are not soft-deleted: deleting the row releases the hostname.
create table tenant_domains (
  id                 uuid        not null default gen_random_uuid(),
  store_id           uuid        not null,
  domain             text        not null,
  is_primary         boolean     not null default false,
  verification_token text        not null default encode(gen_random_bytes(16), 'hex'),
  verified_at        timestamptz,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),

  constraint tenant_domains_pkey primary key (store_id, id),
  constraint tenant_domains_store_id_fkey
    foreign key (store_id) references tenants (id) on delete cascade,
  -- lower-case hostname: 2+ dot-separated DNS labels, letter-led TLD, <= 253
  constraint tenant_domains_domain_check
    check (length(domain) <= 253
           and domain ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$')
);

-- Deliberate exception to "every unique key includes store_id": a hostname
-- must route to exactly one store across the whole platform.
create unique index tenant_domains_domain_key on tenant_domains (domain);
comment on index tenant_domains_domain_key is
  'storedb:global-unique — a hostname routes to exactly one store.';

-- at most one primary domain per store
create unique index tenant_domains_store_id_is_primary_key
  on tenant_domains (store_id) where is_primary;

comment on table tenant_domains is
  'Custom hostnames of a store (e.g. shop.example.com). Only verified domains are routed by resolve_store_id().';
comment on column tenant_domains.domain is 'Lower-case hostname, globally unique (tenant_domains_domain_key).';
comment on column tenant_domains.is_primary is 'Canonical domain of the store; at most one per store.';
comment on column tenant_domains.verification_token is 'Token the store publishes in DNS (TXT) to prove ownership.';
comment on column tenant_domains.verified_at is 'When ownership was verified; NULL = not routed yet.';

create trigger tenant_domains_set_updated_at
  before update on tenant_domains
  for each row execute function update_updated_at_column();
create trigger tenant_domains_audit
  after insert or update or delete on tenant_domains
  for each row execute function audit_trigger();


-- -----------------------------------------------------------------------------
-- validate_timezone(): BEFORE INSERT/UPDATE trigger for timezone columns
-- -----------------------------------------------------------------------------
-- A CHECK constraint cannot validate a time zone name (the list of zones is
-- not immutable), so a trigger does it. The error looks like a CHECK
-- violation of <table>_timezone_check so the DAO maps it like one.
create or replace function validate_timezone()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, public
as $$
begin
  if new.timezone is not null then
    begin
      perform now() at time zone new.timezone;
    exception when invalid_parameter_value then
      raise exception using
        errcode    = 'check_violation',
        constraint = tg_table_name || '_timezone_check',
        table      = tg_table_name,
        column     = 'timezone',
        message    = format('time zone "%s" is not recognized', new.timezone),
        hint       = 'use an IANA time zone name such as Europe/Paris or UTC';
    end;
  end if;
  return new;
end;
$$;

comment on function validate_timezone() is
  'BEFORE INSERT/UPDATE trigger: rejects an unknown NEW.timezone with check_violation <table>_timezone_check.';


-- -----------------------------------------------------------------------------
-- tenant_settings: regional and commercial settings, one row per tenant
-- -----------------------------------------------------------------------------
create table tenant_settings (
  id                   uuid        not null default gen_random_uuid(),
  store_id             uuid        not null,
  locale               text        not null default 'en-US',
  timezone             text        not null default 'UTC',
  currency_code        text        not null default 'USD',
  weight_unit          text        not null default 'kg',
  dimension_unit       text        not null default 'cm',
  tax_inclusive_prices boolean     not null default false,
  order_id_prefix      text        not null default '#',
  support_email        text,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),

  constraint tenant_settings_pkey primary key (store_id, id),
  constraint tenant_settings_store_id_key unique (store_id),
  constraint tenant_settings_store_id_fkey
    foreign key (store_id) references tenants (id) on delete cascade,
  -- BCP 47 shape: en, en-US, zh-Hant-TW
  constraint tenant_settings_locale_check
    check (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  constraint tenant_settings_currency_code_check
    check (currency_code ~ '^[A-Z]{3}$'),
  constraint tenant_settings_weight_unit_check
    check (weight_unit in ('g', 'kg', 'oz', 'lb')),
  constraint tenant_settings_dimension_unit_check
    check (dimension_unit in ('mm', 'cm', 'm', 'in', 'ft')),
  constraint tenant_settings_order_id_prefix_check
    check (order_id_prefix ~ '^[A-Za-z0-9#_-]{0,10}$'),
  constraint tenant_settings_support_email_check
    check (support_email = lower(support_email) and support_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$')
);

comment on table tenant_settings is
  'Regional and commercial settings of a store, 1:1 with tenants. Created by create_tenant().';
comment on column tenant_settings.locale is 'Default BCP 47 locale of the storefront, e.g. en-US.';
comment on column tenant_settings.timezone is 'IANA time zone used for reports and order dates (validated by trigger).';
comment on column tenant_settings.currency_code is 'Default ISO 4217 currency; products and orders default to it.';
comment on column tenant_settings.weight_unit is 'Unit of products.weight: g, kg, oz or lb.';
comment on column tenant_settings.dimension_unit is 'Unit of products length/width/height: mm, cm, m, in or ft.';
comment on column tenant_settings.tax_inclusive_prices is 'true = catalogue prices include tax.';
comment on column tenant_settings.order_id_prefix is 'Shown before orders.display_id, e.g. "#" gives "#1001".';
comment on column tenant_settings.support_email is 'Customer-facing support address (lower case).';

create trigger tenant_settings_validate_timezone
  before insert or update of timezone on tenant_settings
  for each row execute function validate_timezone();
create trigger tenant_settings_set_updated_at
  before update on tenant_settings
  for each row execute function update_updated_at_column();
create trigger tenant_settings_audit
  after insert or update or delete on tenant_settings
  for each row execute function audit_trigger();


-- -----------------------------------------------------------------------------
-- create_tenant(): one call creates tenant + store_config + tenant_settings
-- -----------------------------------------------------------------------------
-- Errors (constraint names kept, messages made readable):
--   23505 unique_violation  tenants_subdomain_key            subdomain taken
--   23514 check_violation   tenants_subdomain_check          not a DNS label
--   23514 check_violation   tenants_subdomain_reserved_check reserved name
--   other constraint errors (name, locale, currency, timezone, config) are
--   raised unchanged.
-- Paid plans start a 14-day trial; the free plan is active at once.
-- p_id lets a caller choose the new store's id (e.g. a client-generated UUID, so
-- it can send the follow-up queries in the same round trip); NULL draws one.
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
  set search_path = pg_catalog, public
as $$
declare
  -- taken exactly as given: upper case or surrounding blanks are rejected by
  -- tenants_subdomain_check rather than silently changed
  v_subdomain  text := p_subdomain;
  v_store_id   uuid;
  v_constraint text;
begin
  begin
    insert into tenants (id, subdomain, name, subscription_plan, subscription_status, trial_ends_at)
    values (coalesce(p_id, gen_random_uuid()),
            v_subdomain,
            btrim(p_name),
            p_plan,
            case when p_plan = 'free' then 'active' else 'trialing' end::subscription_status,
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
      raise;
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

  insert into store_configs (store_id, config)
  values (v_store_id, coalesce(p_config, '{}'));

  insert into tenant_settings (store_id, locale, timezone, currency_code)
  values (v_store_id, p_locale, p_timezone, upper(btrim(p_currency_code)));

  return v_store_id;
end;
$$;

comment on function create_tenant(text, text, subscription_plan, text, text, text, jsonb, uuid) is
  'Creates a tenant with its store_config and tenant_settings; returns the new store id. '
  'The subdomain is used as given (upper case is rejected, not lowered). '
  'SECURITY DEFINER (storedb_definer) since 003.';


-- -----------------------------------------------------------------------------
-- soft_delete_tenant(): mark a tenant deleted; deletes no row
-- -----------------------------------------------------------------------------
-- Errors: P0002 no_data_found (unknown id), 55000
-- object_not_in_prerequisite_state (already deleted), 42501
-- insufficient_privilege (a session scoped to another store). Called without
-- a tenant context it acts as a platform operation on any tenant.
create or replace function soft_delete_tenant(p_tenant_id uuid)
  returns void
  language plpgsql
  set search_path = pg_catalog, public
as $$
declare
  v_deleted_at timestamptz;
begin
  select t.deleted_at
    into v_deleted_at
    from tenants t
   where t.id = p_tenant_id
     for update;

  if not found then
    raise exception using
      errcode = 'no_data_found',
      message = format('tenant %s not found', p_tenant_id);
  end if;

  if get_current_store_id() is not null and get_current_store_id() <> p_tenant_id then
    raise exception using
      errcode = 'insufficient_privilege',
      message = format('tenant %s cannot be deleted from the context of store %s',
                       p_tenant_id, get_current_store_id());
  end if;

  if v_deleted_at is not null then
    raise exception using
      errcode = 'object_not_in_prerequisite_state',
      message = format('tenant %s is already deleted', p_tenant_id);
  end if;

  update tenants
     set deleted_at = now(),
         status     = 'archived'
   where id = p_tenant_id;
end;
$$;

comment on function soft_delete_tenant(uuid) is
  'Soft-deletes a tenant (deleted_at = now(), status = archived), releasing its subdomain. '
  'Deletes no data. SECURITY DEFINER (storedb_definer) since 003.';


-- -----------------------------------------------------------------------------
-- resolve_store_id(): request host -> live store id (NULL when unknown)
-- -----------------------------------------------------------------------------
-- Order: 1. verified custom domain (tenant_domains),
--        2. first DNS label as subdomain: "acme.storedb.io" or bare "acme".
-- The host is lower-cased and trimmed; a port (":8080") and a trailing dot
-- are ignored. Soft-deleted tenants never resolve.
create or replace function resolve_store_id(p_host text)
  returns uuid
  language plpgsql
  stable
  set search_path = pg_catalog, public
as $$
declare
  v_host     text := lower(btrim(p_host));
  v_store_id uuid;
begin
  v_host := rtrim(regexp_replace(v_host, ':[0-9]+$', ''), '.');
  if v_host is null or v_host = '' then
    return null;
  end if;

  select d.store_id
    into v_store_id
    from tenant_domains d
         join tenants t on t.id = d.store_id
   where d.domain = v_host
     and d.verified_at is not null
     and t.deleted_at is null;
  if found then
    return v_store_id;
  end if;

  select t.id
    into v_store_id
    from tenants t
   where t.subdomain = split_part(v_host, '.', 1)
     and t.deleted_at is null;
  return v_store_id;  -- NULL when not found
end;
$$;

comment on function resolve_store_id(text) is
  'Maps a request host to a live store id: verified custom domain first, then '
  '<subdomain>.<anything> or bare subdomain; NULL when unknown. SECURITY DEFINER since 003.';
