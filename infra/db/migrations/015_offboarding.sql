-- =============================================================================
-- migrations/015_offboarding.sql — delete a tenant in small, resumable transactions
-- =============================================================================
-- Purpose
--   Issue 16, point 7. `delete from tenants where id = ...` removes a store in
--   ONE transaction through the cascades: 560k rows took 27.4 s and 239 MB
--   of WAL, holding back vacuum cluster-wide for as long; a store of a few
--   million rows would take minutes and gigabytes. Offboarding instead:
--   * offboard_tenant_step(tenant, batch_rows) deletes at most batch_rows
--     rows of the tenant, children first (line items, orders, counters, user
--     preferences, users, products, domains, settings, configs, audit rows),
--     and once nothing is left the tenants row itself (tenant_deletions then
--     records it, with the number of rows removed). Each call is one short
--     transaction; calling it again resumes where the last one stopped, so a
--     crash, a cancel or a deploy in between loses nothing.
--   * offboard_tenant(tenant, batch_rows) (a procedure: `call ...`) runs the
--     steps with a COMMIT after each and reports progress (NOTICE).
--     `storedb offboard` does the same from Python, sizing the batches to a
--     time budget per transaction and printing progress.
--   Only a soft-deleted tenant is offboarded (soft_delete_tenant() first):
--   the app no longer sees or writes it (011), its subdomain and domains are
--   free, and the deletes write no audit rows (audit_trigger() skips a
--   soft-deleted store's deletes; the trace is tenant_deletions).
--
-- Creates
--   function  : offboard_tenant_step(uuid, integer) returns table (table_name
--               text, rows_deleted bigint, finished boolean)
--   procedure : offboard_tenant(uuid, integer)
--   Both run as the caller, the schema owner (they are not granted to
--   anybody): they set the store themselves, so FORCE RLS lets the owner
--   see exactly that store's rows.
--
-- Depends on
--   002, 004, 009 (tenant_deletions, its trigger), 011, 016 and every tenant
--   table: a tenant table not in the list below is emptied by the final
--   cascade (add it to the list in a later migration).
--
-- Locks
--   None: creating a function and a procedure takes no table lock. Running
--   them takes ROW EXCLUSIVE on the tables they delete from (like any
--   DELETE) and row locks on the deleted rows only, one batch at a time.
--
-- Undo
--   drop procedure offboard_tenant(uuid, integer); drop function
--   offboard_tenant_step(uuid, integer);
-- =============================================================================

create function offboard_tenant_step(p_tenant_id uuid, p_batch_rows integer default 5000)
  returns table (table_name text, rows_deleted bigint, finished boolean)
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_deleted_at timestamptz;
  v_table      text;
  v_key        text;
  v_count      bigint;
  v_total      bigint;
begin
  -- the owner is subject to FORCE RLS: the store's own rows, and only them
  perform set_config('app.current_store_id', p_tenant_id::text, true);

  select t.deleted_at into v_deleted_at from public.tenants t where t.id = p_tenant_id;
  if not found then
    if exists (select 1 from public.tenant_deletions d where d.tenant_id = p_tenant_id) then
      return query select 'tenants'::text, 0::bigint, true;  -- done earlier
      return;
    end if;
    raise exception using
      errcode = 'no_data_found',
      message = format('tenant %s not found', p_tenant_id);
  end if;
  if v_deleted_at is null then
    raise exception using
      errcode = 'object_not_in_prerequisite_state',
      message = format('tenant %s is live: soft-delete it first', p_tenant_id),
      hint    = format('select soft_delete_tenant(%L);', p_tenant_id);
  end if;

  -- children before parents, so no delete cascades into a big one
  foreach v_table in array array[
      'order_line_items', 'orders', 'order_display_id_counters', 'user_preferences', 'users',
      'products', 'tenant_domains', 'tenant_settings', 'store_configs', 'audit_log'] loop
    v_key := case v_table
               when 'order_display_id_counters' then 'store_id'
               when 'audit_log' then 'store_id, at, id'
               else 'store_id, id' end;
    execute format('delete from public.%1$I where (%2$s) in '
                   '(select %2$s from public.%1$I where store_id = $1 limit $2)',
                   v_table, v_key)
      using p_tenant_id, greatest(p_batch_rows, 1);
    get diagnostics v_count = row_count;
    if v_count > 0 then
      perform set_config('storedb.offboard_rows',
                         (coalesce(nullif(current_setting('storedb.offboard_rows', true), ''),
                                   '0')::bigint + v_count)::text, false);
      return query select v_table, v_count, false;
      return;
    end if;
  end loop;

  -- nothing left but the tenant (and tables added after this file: cascade)
  v_total := coalesce(nullif(current_setting('storedb.offboard_rows', true), ''), '0')::bigint;
  perform set_config('storedb.offboard_rows', (v_total + 1)::text, true);
  delete from public.tenants t where t.id = p_tenant_id;
  perform set_config('storedb.offboard_rows', '', false);
  return query select 'tenants'::text, 1::bigint, true;
end;
$$;

comment on function offboard_tenant_step(uuid, integer) is
  'Offboarding, one batch: deletes at most p_batch_rows rows of a soft-deleted tenant (children '
  'first), finally the tenants row (recorded in tenant_deletions). Resumable: call until '
  'finished. Run as the schema owner, one call per transaction.';

create procedure offboard_tenant(p_tenant_id uuid, p_batch_rows integer default 5000)
  language plpgsql
as $$
declare
  v_step  record;
  v_total bigint := 0;
  v_start timestamptz := clock_timestamp();
begin
  loop
    select * into v_step from public.offboard_tenant_step(p_tenant_id, p_batch_rows);
    v_total := v_total + v_step.rows_deleted;
    raise notice 'offboard %: % rows from % (% so far, % s)', p_tenant_id,
      v_step.rows_deleted, v_step.table_name, v_total,
      round(extract(epoch from clock_timestamp() - v_start)::numeric, 1);
    commit;
    exit when v_step.finished;
  end loop;
end;
$$;

comment on procedure offboard_tenant(uuid, integer) is
  'Offboarding: calls offboard_tenant_step() with a COMMIT after each batch until the tenant is '
  'gone, reporting progress as NOTICEs. `call offboard_tenant(''<id>'');` outside a transaction '
  'block, as the schema owner. Resumable.';

-- Owner only: deleting a store is the platform's decision.
revoke all on function offboard_tenant_step(uuid, integer) from public;
revoke all on procedure offboard_tenant(uuid, integer) from public;
