-- =============================================================================
-- schema/00_base.sql — shared foundations of storedb
-- =============================================================================
-- Purpose
--   Everything the other files build on: extensions, enum types, generic
--   trigger functions, the slug helper, the tenant-context helpers and the
--   append-only audit_log table.
--
-- Creates
--   extensions : uuid-ossp, pgcrypto (gen_random_bytes), pg_trgm, btree_gin
--   types      : entity_status, product_status, order_status, payment_status,
--                fulfillment_status, user_role, subscription_status,
--                subscription_plan
--   functions  : update_updated_at_column(), generate_slug(text),
--                set_current_store_id(uuid), get_current_store_id(),
--                audit_trigger()
--   tables     : audit_log (+ index audit_log_store_id_at_idx)
--
-- Depends on
--   Nothing (first file). Needs a role allowed to create extensions
--   (superuser, or a role with CREATE on the database such as its owner: all
--   four extensions are trusted since PostgreSQL 13).
--
-- Locks
--   No existing table is touched: everything here is new (the ACCESS
--   EXCLUSIVE lock on the new audit_log is invisible to other sessions until
--   the file's transaction commits). `create extension if not exists` on an
--   extension that is already installed changes nothing.
--
-- Undo
--   Never edit this file once applied. Undo with a new migration that drops
--   what is listed above, in reverse dependency order (every later file uses
--   these objects, so in practice this file is only undone by dropping the
--   database).
--
-- Changing safely
--   * Enum values: add them in a new migration with
--     `alter type ... add value if not exists ...`; a new value cannot be
--     used in the transaction that adds it, so use it in a later file.
--     Never remove or rename values.
--   * Functions: `create or replace` in a new migration, keeping the exact
--     signature (the DAO and RLS policies call them by name).
--   * audit_trigger() is SECURITY DEFINER owned by storedb_definer since 003:
--     `create or replace` keeps owner and grants but resets SECURITY DEFINER
--     and SET clauses, so a replacement must restate `security definer set
--     search_path = pg_catalog, public` (and be run by a member of
--     storedb_definer). Never grant EXECUTE on it to storedb_app: with it the
--     app could attach it to a temp table of its own and forge audit rows.
--   * generate_slug() is IMMUTABLE: changing its output changes the handle of
--     future products only; stored handles are not recomputed.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- Extensions
-- -----------------------------------------------------------------------------
create extension if not exists "uuid-ossp";
create extension if not exists pgcrypto;
create extension if not exists pg_trgm;
-- btree_gin: GIN operator classes for plain scalar types (uuid among them), so
-- a GIN index on a tenant table can lead with store_id like every other index
-- (tenant-table rule "indexes lead with store_id"): products_tags_idx is
-- gin (store_id, tags), products_title_trgm_idx gin (store_id, title
-- gin_trgm_ops). Trusted since PostgreSQL 13: the non-superuser schema owner
-- can create it.
create extension if not exists btree_gin;


-- -----------------------------------------------------------------------------
-- Enum types
-- Values are append-only (see "Changing safely" above).
-- -----------------------------------------------------------------------------
create type entity_status as enum ('active', 'inactive', 'suspended', 'archived');
comment on type entity_status is
  'Lifecycle of tenants and users. archived = soft-deleted (deleted_at is set).';

create type product_status as enum ('draft', 'proposed', 'published', 'rejected');
comment on type product_status is
  'Medusa product lifecycle: draft -> proposed (awaiting review) -> published | rejected.';

create type order_status as enum
  ('pending', 'confirmed', 'completed', 'canceled', 'archived', 'requires_action');
comment on type order_status is 'Overall state of an order.';

create type payment_status as enum
  ('not_paid', 'awaiting', 'authorized', 'partially_authorized', 'captured',
   'partially_captured', 'partially_refunded', 'refunded', 'canceled',
   'requires_action');
comment on type payment_status is 'Money side of an order.';

create type fulfillment_status as enum
  ('not_fulfilled', 'partially_fulfilled', 'fulfilled', 'partially_shipped',
   'shipped', 'partially_returned', 'returned', 'canceled', 'requires_action');
comment on type fulfillment_status is 'Goods side of an order.';

create type user_role as enum ('owner', 'admin', 'staff', 'viewer');
comment on type user_role is
  'Role of a store user; permissions per role live in role_permissions.';

create type subscription_status as enum
  ('trialing', 'active', 'past_due', 'canceled', 'unpaid');
comment on type subscription_status is 'Billing state of a tenant''s platform subscription.';

create type subscription_plan as enum ('free', 'starter', 'growth', 'enterprise');
comment on type subscription_plan is 'Platform plan of a tenant; free is the default.';


-- -----------------------------------------------------------------------------
-- update_updated_at_column(): BEFORE UPDATE trigger keeping updated_at
-- -----------------------------------------------------------------------------
create or replace function update_updated_at_column()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, public
as $$
begin
  -- A no-op update (every column unchanged) keeps updated_at as it is, so
  -- idempotent writers (seeds, upserts) really change nothing; audit_trigger()
  -- then skips the row too. jsonb comparison works for every column type.
  if to_jsonb(new) = to_jsonb(old) then
    return new;
  end if;
  new.updated_at := now();
  return new;
end;
$$;

comment on function update_updated_at_column() is
  'BEFORE UPDATE row trigger: sets updated_at = now() unless the update changes nothing.';


-- -----------------------------------------------------------------------------
-- generate_slug(text): URL slug used for product handles
-- -----------------------------------------------------------------------------
-- Rules, in order:
--   1. NULL in, NULL out (STRICT).
--   2. Apostrophes are dropped ("Bob's" -> "bobs").
--   3. Common Latin letters are transliterated to ASCII: ligatures
--      (ß->ss, æ->ae, œ->oe, þ->th, ĳ->ij) then accented letters via
--      translate() (é->e, ø->o, ł->l, ...). No unaccent extension needed.
--   4. Lower-cased (ASCII).
--   5. Every run of characters outside [a-z0-9] becomes one hyphen.
--   6. Leading and trailing hyphens are trimmed.
--   7. Truncated to 200 characters, then trailing hyphens trimmed again.
--   8. Never empty: if nothing is left, the result is 'n-a'.
-- Output always matches ^[a-z0-9]+(-[a-z0-9]+)*$ and is at most 200 chars.
create or replace function generate_slug(p_text text)
  returns text
  language plpgsql
  immutable
  strict
  parallel safe
  set search_path = pg_catalog, public
as $$
declare
  v_slug text := p_text;
begin
  v_slug := translate(v_slug, '''’‘`', '');
  v_slug := replace(replace(replace(replace(replace(v_slug,
              'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'), 'ĳ', 'ij');
  v_slug := replace(replace(replace(replace(replace(v_slug,
              'ẞ', 'ss'), 'Æ', 'ae'), 'Œ', 'oe'), 'Þ', 'th'), 'Ĳ', 'ij');
  v_slug := translate(v_slug,
    'àáâãäåāăą' || 'çćĉċč' || 'ďđð' || 'èéêëēĕėęě' || 'ĝğġģ' || 'ĥħ' ||
    'ìíîïĩīĭįı' || 'ĵ' || 'ķ' || 'ĺļľŀł' || 'ñńņň' || 'òóôõöøōŏő' ||
    'ŕŗř' || 'śŝşšș' || 'ţťŧț' || 'ùúûüũūŭůűų' || 'ŵ' || 'ýÿŷ' || 'źżž' ||
    'ÀÁÂÃÄÅĀĂĄ' || 'ÇĆĈĊČ' || 'ĎĐÐ' || 'ÈÉÊËĒĔĖĘĚ' || 'ĜĞĠĢ' || 'ĤĦ' ||
    'ÌÍÎÏĨĪĬĮİ' || 'Ĵ' || 'Ķ' || 'ĹĻĽĿŁ' || 'ÑŃŅŇ' || 'ÒÓÔÕÖØŌŎŐ' ||
    'ŔŖŘ' || 'ŚŜŞŠȘ' || 'ŢŤŦȚ' || 'ÙÚÛÜŨŪŬŮŰŲ' || 'Ŵ' || 'ÝŸŶ' || 'ŹŻŽ',
    'aaaaaaaaa' || 'ccccc' || 'ddd' || 'eeeeeeeee' || 'gggg' || 'hh' ||
    'iiiiiiiii' || 'j' || 'k' || 'lllll' || 'nnnn' || 'ooooooooo' ||
    'rrr' || 'sssss' || 'tttt' || 'uuuuuuuuuu' || 'w' || 'yyy' || 'zzz' ||
    'aaaaaaaaa' || 'ccccc' || 'ddd' || 'eeeeeeeee' || 'gggg' || 'hh' ||
    'iiiiiiiii' || 'j' || 'k' || 'lllll' || 'nnnn' || 'ooooooooo' ||
    'rrr' || 'sssss' || 'tttt' || 'uuuuuuuuuu' || 'w' || 'yyy' || 'zzz');
  -- ASCII-only lower-casing: independent of the database collation.
  v_slug := translate(v_slug, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
  v_slug := regexp_replace(v_slug, '[^a-z0-9]+', '-', 'g');
  v_slug := btrim(v_slug, '-');
  v_slug := rtrim(left(v_slug, 200), '-');
  return coalesce(nullif(v_slug, ''), 'n-a');
end;
$$;

comment on function generate_slug(text) is
  'URL slug: ASCII transliteration, lower case, [a-z0-9] runs joined by single '
  'hyphens, max 200 chars, never empty (''n-a''), NULL for NULL. See 00_base.sql.';


-- -----------------------------------------------------------------------------
-- Tenant context
-- -----------------------------------------------------------------------------
-- The application calls set_current_store_id() at the start of every
-- transaction. The setting is transaction-local (set_config(..., true)), so a
-- pooled connection never leaks one store's context into the next
-- transaction. RLS policies compare store_id with get_current_store_id().
create or replace function set_current_store_id(p_store_id uuid)
  returns void
  language sql
  volatile
as $$
  select set_config('app.current_store_id', coalesce(p_store_id::text, ''), true);
$$;

comment on function set_current_store_id(uuid) is
  'Sets the tenant context (app.current_store_id) for the current transaction only. '
  'NULL clears it.';

-- No "set search_path" here on purpose: it would prevent inlining into RLS
-- policies; everything it calls lives in pg_catalog, which is always searched
-- first.
create or replace function get_current_store_id()
  returns uuid
  language sql
  stable
  parallel safe
as $$
  -- missing_ok = true: NULL when never set; '' after the transaction that set
  -- it ended (same connection): both read as NULL, never an error.
  select nullif(current_setting('app.current_store_id', true), '')::uuid;
$$;

comment on function get_current_store_id() is
  'Current tenant (app.current_store_id) or NULL when unset/empty. Used by every RLS policy.';


-- -----------------------------------------------------------------------------
-- audit_log: append-only change history of tenant tables
-- -----------------------------------------------------------------------------
-- store_id is a tenant column: its foreign key to tenants (on delete cascade)
-- is added by 01_tenants.sql, once tenants exists.
create table audit_log (
  id              bigint      generated always as identity,
  store_id        uuid        not null,
  at              timestamptz not null default now(),
  table_name      text        not null,
  operation       text        not null,
  row_key         jsonb       not null,
  old_row         jsonb,
  new_row         jsonb,
  changed_columns text[],
  db_user         text        not null default current_user,
  db_session_user text        not null default session_user,
  txid            bigint      not null default txid_current(),

  constraint audit_log_pkey primary key (store_id, id),
  constraint audit_log_operation_check
    check (operation in ('insert', 'update', 'delete')),
  constraint audit_log_row_key_check
    check (jsonb_typeof(row_key) = 'object'),
  constraint audit_log_old_row_check
    check (old_row is null or jsonb_typeof(old_row) = 'object'),
  constraint audit_log_new_row_check
    check (new_row is null or jsonb_typeof(new_row) = 'object')
);

create index audit_log_store_id_at_idx on audit_log (store_id, at);

comment on table audit_log is
  'Append-only history of row changes on tenant tables, written only by audit_trigger() '
  '(SECURITY DEFINER, owned by storedb_definer since 003). The application may only '
  'select (own store, RLS): it can neither insert (no forged rows) nor update/delete.';
comment on column audit_log.store_id is 'Tenant the changed row belongs to (tenants: the tenant''s own id).';
comment on column audit_log.at is 'Transaction start time of the change (now()).';
comment on column audit_log.table_name is 'Table of the changed row (unqualified name).';
comment on column audit_log.operation is 'insert, update or delete.';
comment on column audit_log.row_key is 'Primary key column values of the changed row, as a JSON object.';
comment on column audit_log.old_row is 'Whole row before the change (update/delete), NULL for insert.';
comment on column audit_log.new_row is 'Whole row after the change (insert/update), NULL for delete.';
comment on column audit_log.changed_columns is 'Columns whose value changed (update only), sorted.';
comment on column audit_log.db_user is
  'Role the session was acting as: the SET ROLE role, else the login role (session_user). '
  'Written by audit_trigger(); a change made through a SECURITY DEFINER function '
  '(create_tenant(), ...) records the role that called it.';
comment on column audit_log.db_session_user is 'session_user: the role that logged in.';
comment on column audit_log.txid is 'txid_current() of the writing transaction: groups the rows of one transaction.';


-- -----------------------------------------------------------------------------
-- audit_trigger(): generic AFTER INSERT/UPDATE/DELETE row trigger
-- -----------------------------------------------------------------------------
-- Attach to any tenant table:
--   create trigger <table>_audit after insert or update or delete on <table>
--     for each row execute function audit_trigger();
-- * store_id comes from the row's store_id column; for the tenants table it is
--   the row's id. Any other table raises an error at first write.
-- * An UPDATE that changes nothing (old row = new row as jsonb) is skipped.
-- * A DELETE whose tenant no longer exists (hard delete of a tenant cascading
--   to its rows) is skipped: the tenant's audit rows are deleted by the same
--   cascade, and the audit row could not reference the tenant anyway.
-- * 003 makes it SECURITY DEFINER owned by storedb_definer, so audit rows are
--   written with the definer's INSERT on audit_log and the application needs
--   (and has) no INSERT on audit_log: it cannot forge audit rows. Inside the
--   function current_user is therefore storedb_definer; the acting role is
--   taken from the session instead (db_user below): the SET ROLE role, else
--   session_user. The row's store_id has already passed the table's RLS
--   policy when this AFTER trigger runs.
create or replace function audit_trigger()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, public
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
     and not exists (select 1 from tenants t where t.id = v_store_id) then
    return null;  -- the tenant itself is being hard-deleted (see above)
  end if;

  -- primary key values of the row, e.g. {"store_id": "...", "id": "..."}
  select jsonb_object_agg(a.attname, v_row -> a.attname::text)
    into v_key
    from pg_index i
         cross join lateral unnest(i.indkey::int2[]) as k (attnum)
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
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

  -- db_user: not current_user (storedb_definer once 003 has run) but the role
  -- the session acts as. The "role" setting is 'none' unless SET ROLE was used;
  -- SECURITY DEFINER does not change it.
  insert into audit_log
    (store_id, table_name, operation, row_key, old_row, new_row, changed_columns,
     db_user, db_session_user)
  values
    (v_store_id, tg_table_name, lower(tg_op), v_key, v_old, v_new, v_changed,
     coalesce(nullif(current_setting('role'), 'none'), session_user), session_user);

  return null;  -- AFTER trigger: return value ignored
end;
$$;

comment on function audit_trigger() is
  'Generic AFTER row trigger writing audit_log for tenant tables (store_id column, or tenants.id). '
  'SECURITY DEFINER (storedb_definer) since 003: the only writer of audit_log.';
