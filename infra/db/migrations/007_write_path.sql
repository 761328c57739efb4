-- =============================================================================
-- migrations/007_write_path.sql — cheaper triggers, compact audit rows, linear bulk loads
-- =============================================================================
-- Purpose
--   Issue 16, points 1 and 2: every write paid for triggers that did more
--   than needed, and a bulk insert into a never-analysed products table was
--   quadratic.
--   * audit_trigger(): an UPDATE row holds only what changed: old_row and
--     new_row carry the changed columns only (updated_at, which changes on
--     every update and equals audit_log.at, is left out), instead of two full
--     copies of the row (2.1 KB -> about 0.3 KB for a one-column update).
--     An INSERT row holds the row key only: the inserted values are the row
--     itself, and every later change keeps the old values, so the state at
--     insert time is the current row with the updates undone (README,
--     "Audit log"). A DELETE keeps the whole row without its NULL columns
--     (jsonb_strip_nulls: an absent key reads as NULL). The row key is
--     {store_id, id} (tenants: {id}) read from the row, no catalog query per
--     row; a table without an id column still gets its primary key from the
--     catalog. A DELETE of a row whose tenant is gone or soft-deleted is not
--     recorded: that is offboarding (014), whose trace is
--     tenant_deletions (009).
--   * update_updated_at_column(): the no-op test compares the two records in
--     C (`new *= old`, binary equality) instead of converting both to jsonb.
--   * products_before_write(): runs with plan_cache_mode = force_custom_plan
--     and enable_seqscan = off. PL/pgSQL caches the plan of the
--     handle-collision query; planned while products was empty and never
--     analysed, every store_id-led index looks as good as
--     products_store_id_handle_key (one row estimated), the cached plan read
--     the whole store and every later row scanned all rows loaded before it
--     (5k rows 5.7 s, 10k 44.8 s). Planned anew with the actual values each
--     time (only when handle or currency_code is NULL, the only cases that
--     query), the planner picks the handle index as soon as the table has a
--     few hundred rows: 100k rows take about 7x the time of 10k (bench 8c).
--   * fillfactor 90 on products and orders: an update finds room on its own
--     page and, with no indexed column changed (008 drops the updated_at
--     indexes), is HOT. Applies to pages written from now on; existing pages
--     get it when rewritten (pg_repack, VACUUM FULL).
--
-- Changes
--   functions : audit_trigger(), update_updated_at_column(),
--               products_before_write() (same
--               signatures, owners and grants)
--
-- Depends on
--   00_base.sql, 001, 003 (owners), 006 (search_path with pg_temp last).
--   Run by the schema owner, a member of storedb_definer (audit_trigger() is
--   owned by storedb_definer).
--
-- Locks (in this order; taken by the first two statements)
--   1. products: SHARE ROW EXCLUSIVE (DROP/CREATE TRIGGER, ALTER TABLE SET
--      (fillfactor)), waiting at most the runner's lock_timeout; until commit
--      writes to products wait, reads do not.
--   2. orders: SHARE UPDATE EXCLUSIVE, NOWAIT (a failure rolls the file back
--      and the runner retries): reads and writes continue; only DDL, VACUUM
--      and ANALYZE of orders wait. No data is rewritten or scanned.
--   CREATE OR REPLACE FUNCTION takes no table lock; a statement already
--   running keeps the body it started with.
--
-- Undo
--   Never edit this file once applied. A later migration may restate the
--   previous bodies (006 for audit_trigger(), 00_base.sql for the others).
--   Audit rows written meanwhile keep their compact form.
--
-- Changing safely
--   * audit_trigger() is SECURITY DEFINER owned by storedb_definer: a
--     replacement restates `security definer set search_path = pg_catalog,
--     public, pg_temp` and qualifies every table (006).
-- =============================================================================


lock table products in share row exclusive mode;
lock table orders in share update exclusive mode nowait;

-- Safe: storage parameter only; no rewrite.
alter table products set (fillfactor = 90);
alter table orders set (fillfactor = 90);


-- -----------------------------------------------------------------------------
-- audit_trigger(): compact rows
-- -----------------------------------------------------------------------------
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

  if tg_op = 'UPDATE' then
    if new *= old then
      return null;  -- no-op update: nothing to record
    end if;
    v_old := to_jsonb(old);
    v_row := to_jsonb(new);
    -- only the columns that changed, old and new value each
    select array_agg(n.key order by n.key),
           jsonb_object_agg(n.key, v_old -> n.key),
           jsonb_object_agg(n.key, n.value)
      into v_changed, v_old, v_new
      from jsonb_each(v_row) as n (key, value)
     where n.key <> 'updated_at'
       and n.value is distinct from v_old -> n.key;
    if v_changed is null then
      return null;  -- only updated_at moved
    end if;
  elsif tg_op = 'INSERT' then
    -- the key is all an insert needs (see the header); no jsonb of the row
    if tg_table_name = 'tenants' then
      v_store_id := new.id;
      v_key := jsonb_build_object('id', new.id);
    else
      v_row := jsonb_build_object('store_id', new.store_id, 'id', new.id);
      v_store_id := new.store_id;
      v_key := v_row;
    end if;
    insert into public.audit_log
      (store_id, table_name, operation, row_key, db_user, db_session_user)
    values
      (v_store_id, tg_table_name, 'insert', v_key,
       coalesce(nullif(current_setting('role'), 'none'), session_user), session_user);
    return null;
  else
    v_row := to_jsonb(old);
    v_old := jsonb_strip_nulls(v_row);
  end if;

  if tg_table_name = 'tenants' then
    v_store_id := (v_row ->> 'id')::uuid;
    v_key := jsonb_build_object('id', v_row -> 'id');
  elsif v_row ? 'store_id' then
    v_store_id := (v_row ->> 'store_id')::uuid;
    if v_row ? 'id' then
      v_key := jsonb_build_object('store_id', v_row -> 'store_id', 'id', v_row -> 'id');
    else
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
          message = format('audit_trigger(): table %I.%I has neither an id column nor a primary key',
                           tg_table_schema, tg_table_name);
      end if;
    end if;
  else
    raise exception using
      errcode = 'feature_not_supported',
      message = format('audit_trigger(): table %I.%I has no store_id column and is not tenants',
                       tg_table_schema, tg_table_name),
      hint    = 'audit_trigger() can only be attached to tenant tables.';
  end if;

  -- A delete inside a tenant that is gone (hard delete cascading) or
  -- soft-deleted (offboarding) is the tenant's removal, recorded once in
  -- tenant_deletions, not row by row.
  if tg_op = 'DELETE'
     and not exists (select 1 from public.tenants t
                      where t.id = v_store_id and t.deleted_at is null) then
    return null;
  end if;

  insert into public.audit_log
    (store_id, table_name, operation, row_key, old_row, new_row, changed_columns,
     db_user, db_session_user)
  values
    (v_store_id, tg_table_name, lower(tg_op), v_key, v_old, v_new, v_changed,
     coalesce(nullif(current_setting('role'), 'none'), session_user), session_user);

  return null;  -- AFTER trigger: return value ignored
end;
$$;

comment on function audit_trigger() is
  'Generic AFTER row trigger writing audit_log for tenant tables (store_id column, or tenants.id): '
  'insert: the row key; update: old and new values of the changed columns only; delete: the row '
  'without NULL columns. SECURITY DEFINER (storedb_definer): the only writer of audit_log.';


-- -----------------------------------------------------------------------------
-- update_updated_at_column(): no-op test without jsonb
-- -----------------------------------------------------------------------------
create or replace function update_updated_at_column()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  -- `*=` is binary equality of the two rows: an update that changes nothing
  -- keeps updated_at, so idempotent writers (seeds, upserts) change nothing.
  if new *= old then
    return new;
  end if;
  new.updated_at := now();
  return new;
end;
$$;


-- -----------------------------------------------------------------------------
-- products_before_write(): the handle lookup always uses its index
-- -----------------------------------------------------------------------------
create or replace function products_before_write()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
  -- the handle query must not run a plan cached while the table was empty
  -- and never analysed (quadratic bulk loads): see the header
  set plan_cache_mode = force_custom_plan
  set enable_seqscan = off
as $$
declare
  v_base   text;
  v_suffix integer := 1;
begin
  if new.handle is null then
    v_base := public.generate_slug(new.title);
    new.handle := v_base;
    while exists (select 1
                    from public.products p
                   where p.store_id = new.store_id
                     and p.handle = new.handle
                     and p.deleted_at is null
                     and p.id <> new.id) loop
      v_suffix := v_suffix + 1;
      new.handle := v_base || '-' || v_suffix;
    end loop;
  end if;

  if new.currency_code is null then
    select s.currency_code
      into new.currency_code
      from public.tenant_settings s
     where s.store_id = new.store_id;
    new.currency_code := coalesce(new.currency_code, 'USD');
  end if;

  if new.status = 'published' and new.published_at is null then
    new.published_at := now();
  end if;

  return new;
end;
$$;

-- Fire it only when it has something to fill: most writes pass no PL/pgSQL call.
drop trigger products_before_write on products;
create trigger products_before_write
  before insert or update on products
  for each row
  when (new.handle is null or new.currency_code is null
        or (new.status = 'published' and new.published_at is null))
  execute function products_before_write();
