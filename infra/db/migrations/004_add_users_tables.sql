-- =============================================================================
-- migrations/004_add_users_tables.sql — store users, preferences, permissions
-- =============================================================================
-- Purpose
--   Staff accounts of a store (tenant-scoped: the same person in two stores is
--   two rows), their preferences, and the global role -> permission map.
--
-- Creates
--   tables   : users (5 indexes), user_preferences (2 indexes),
--              role_permissions (global reference data, seeded here)
--   triggers : <table>_set_updated_at, <table>_audit on users and
--              user_preferences; user_preferences_validate_timezone
--   policies : users_store_isolation, user_preferences_store_isolation
--
-- Depends on
--   00_base.sql (user_role, entity_status, trigger functions),
--   01_tenants.sql (tenants, validate_timezone()), 003 (roles storedb_app
--   and RLS conventions).
--
-- Locks
--   One existing table: tenants. The foreign keys users_store_id_fkey and
--   user_preferences_store_id_fkey take SHARE ROW EXCLUSIVE on tenants and
--   hold it until this file's transaction commits: for that long
--   INSERT/UPDATE/DELETE on tenants wait (create_tenant(),
--   soft_delete_tenant(), tenant updates); reads of tenants do not. No
--   existing row is scanned (the new tables are empty). Everything else is
--   new. The runner runs the file with a short lock_timeout
--   (--statement-lock-timeout, 5 s) and, if a lock wait times out, rolls the
--   file back and retries it (--lock-retries).
--
-- Undo
--   Never edit this file once applied. Undo with a new migration:
--   `drop table user_preferences, users, role_permissions;` (destructive: all
--   store users).
--
-- Changing safely
--   * Permissions: insert/delete role_permissions rows in a new migration
--     (`on conflict do nothing`); they are reference data, not seed data.
--   * New user_role values: see 00_base.sql (enum values are append-only),
--     then add their role_permissions rows in a later file.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- users
-- -----------------------------------------------------------------------------
create table users (
  id            uuid          not null default gen_random_uuid(),
  store_id      uuid          not null,
  email         text          not null,
  display_name  text,
  role          user_role     not null default 'staff',
  status        entity_status not null default 'active',
  auth_user_id  uuid,
  avatar_url    text,
  last_login_at timestamptz,
  metadata      jsonb         not null default '{}',
  deleted_at    timestamptz,
  created_at    timestamptz   not null default now(),
  updated_at    timestamptz   not null default now(),

  constraint users_pkey primary key (store_id, id),
  constraint users_store_id_fkey
    foreign key (store_id) references tenants (id) on delete cascade,
  -- stored lower case (no citext): compare with lower(:email)
  constraint users_email_check
    check (email = lower(email)
           and length(email) <= 254
           and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  constraint users_display_name_check
    check (btrim(display_name) <> '' and length(display_name) <= 200),
  constraint users_metadata_check
    check (jsonb_typeof(metadata) = 'object')
);

create unique index users_store_id_email_key
  on users (store_id, email) where deleted_at is null;
create unique index users_store_id_auth_user_id_key
  on users (store_id, auth_user_id) where auth_user_id is not null and deleted_at is null;
create index users_store_id_role_idx
  on users (store_id, role) where deleted_at is null;
create index users_store_id_created_at_idx
  on users (store_id, created_at desc);

create trigger users_set_updated_at
  before update on users
  for each row execute function update_updated_at_column();
create trigger users_audit
  after insert or update or delete on users
  for each row execute function audit_trigger();

comment on table users is
  'Staff accounts of a store (per tenant: one person in two stores = two rows). Soft-deleted via deleted_at.';
comment on column users.email is 'Login e-mail, lower case; unique per store among live users (users_store_id_email_key).';
comment on column users.display_name is 'Name shown in the admin UI.';
comment on column users.role is 'owner | admin | staff | viewer; permissions in role_permissions.';
comment on column users.status is 'active | inactive | suspended | archived (soft-deleted).';
comment on column users.auth_user_id is
  'Id in the external identity provider (e.g. Supabase Auth auth.users.id); unique per store when set.';
comment on column users.avatar_url is 'URL of the profile picture.';
comment on column users.last_login_at is 'Last successful sign-in into this store.';
comment on column users.metadata is 'Free-form JSON object for integrations.';
comment on column users.deleted_at is 'Soft-delete time; NULL = live. Frees the e-mail for a new user.';


-- -----------------------------------------------------------------------------
-- user_preferences: 1:1 with users
-- -----------------------------------------------------------------------------
create table user_preferences (
  id                  uuid        not null default gen_random_uuid(),
  store_id            uuid        not null,
  user_id             uuid        not null,
  locale              text,
  timezone            text,
  theme               text        not null default 'system',
  email_notifications boolean     not null default true,
  marketing_emails    boolean     not null default false,
  items_per_page      integer     not null default 25,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),

  constraint user_preferences_pkey primary key (store_id, id),
  constraint user_preferences_store_id_user_id_key unique (store_id, user_id),
  constraint user_preferences_store_id_fkey
    foreign key (store_id) references tenants (id) on delete cascade,
  constraint user_preferences_store_id_user_id_fkey
    foreign key (store_id, user_id) references users (store_id, id) on delete cascade,
  constraint user_preferences_locale_check
    check (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  constraint user_preferences_theme_check
    check (theme in ('light', 'dark', 'system')),
  constraint user_preferences_items_per_page_check
    check (items_per_page between 10 and 200)
);

create trigger user_preferences_validate_timezone
  before insert or update of timezone on user_preferences
  for each row execute function validate_timezone();
create trigger user_preferences_set_updated_at
  before update on user_preferences
  for each row execute function update_updated_at_column();
create trigger user_preferences_audit
  after insert or update or delete on user_preferences
  for each row execute function audit_trigger();

comment on table user_preferences is 'Admin UI preferences of a user, 1:1 with users.';
comment on column user_preferences.locale is 'UI locale; NULL = the store locale (tenant_settings.locale).';
comment on column user_preferences.timezone is 'IANA time zone; NULL = the store time zone (validated by trigger).';
comment on column user_preferences.theme is 'light | dark | system.';
comment on column user_preferences.email_notifications is 'Operational e-mails (new order, low stock).';
comment on column user_preferences.marketing_emails is 'Product news from the platform (opt-in).';
comment on column user_preferences.items_per_page is 'Default page size of admin lists (10-200).';


-- -----------------------------------------------------------------------------
-- role_permissions: global reference data (no store_id, no RLS)
-- -----------------------------------------------------------------------------
create table role_permissions (
  role        user_role   not null,
  permission  text        not null,
  created_at  timestamptz not null default now(),

  constraint role_permissions_pkey primary key (role, permission),
  -- <resource>:<action>, e.g. products:write
  constraint role_permissions_permission_check
    check (permission ~ '^[a-z_]+:[a-z_]+$')
);

comment on table role_permissions is
  'Global map of user_role -> permission (<resource>:<action>). Reference data maintained by migrations.';
comment on column role_permissions.permission is '<resource>:<action>, e.g. orders:refund.';

insert into role_permissions (role, permission)
select 'owner'::user_role, p
  from unnest(array[
    'store:read', 'store:write', 'store:delete',
    'billing:read', 'billing:write',
    'users:read', 'users:write',
    'settings:read', 'settings:write',
    'domains:read', 'domains:write',
    'products:read', 'products:write', 'products:delete',
    'orders:read', 'orders:write', 'orders:refund', 'orders:delete',
    'audit:read']) as p
union all
select 'admin', p
  from unnest(array[
    'store:read', 'store:write',
    'billing:read',
    'users:read', 'users:write',
    'settings:read', 'settings:write',
    'domains:read', 'domains:write',
    'products:read', 'products:write', 'products:delete',
    'orders:read', 'orders:write', 'orders:refund', 'orders:delete',
    'audit:read']) as p
union all
select 'staff', p
  from unnest(array[
    'store:read', 'settings:read',
    'products:read', 'products:write',
    'orders:read', 'orders:write']) as p
union all
select 'viewer', p
  from unnest(array[
    'store:read', 'settings:read', 'products:read', 'orders:read']) as p
on conflict (role, permission) do nothing;


-- -----------------------------------------------------------------------------
-- Row level security and privileges (conventions of 003)
-- -----------------------------------------------------------------------------
alter table users enable row level security;
alter table users force row level security;
create policy users_store_isolation on users
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());

alter table user_preferences enable row level security;
alter table user_preferences force row level security;
create policy user_preferences_store_isolation on user_preferences
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());

-- Safe: PUBLIC has no privileges on these new tables; this makes it explicit.
revoke all on table users, user_preferences, role_permissions from public;

grant select, insert, update, delete on table users, user_preferences to storedb_app;
grant select on table role_permissions to storedb_app;
