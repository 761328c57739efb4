-- =============================================================================
-- migrations/017_audit_insert_statement.sql — one audit INSERT per statement, not per row
-- =============================================================================
-- Purpose
--   Issue 16, point 1, the last part of the write path. After 007 an INSERT's
--   audit row holds only the row key, yet writing it row by row from PL/pgSQL
--   into the partitioned audit_log still doubled the cost of a multi-row
--   INSERT ... SELECT (2.2x the same insert without triggers; PostgreSQL 15
--   sets up partition routing for every single-row insert the trigger runs).
--   Inserts are now audited by a statement-level trigger with a transition
--   table: one INSERT ... SELECT into audit_log per statement, whatever the
--   number of rows (1.17x for 100k rows in one INSERT ... SELECT, 2.08x for
--   single-row statements: bench/README.md, section 11). Updates and deletes keep the row trigger
--   (they need OLD and NEW of each row).
--   audit rows are the same as before: operation 'insert', the row key,
--   store_id, db_user / db_session_user of the session.
--
-- Creates
--   function : audit_insert_rows() — SECURITY DEFINER (storedb_definer), pinned
--              search_path, executable by nobody (triggers fire without it)
--   triggers : <table>_audit_insert AFTER INSERT ... REFERENCING NEW TABLE AS
--              new_rows FOR EACH STATEMENT, on the nine audited tables
-- Changes
--   triggers : <table>_audit becomes AFTER UPDATE OR DELETE (was also INSERT)
--   on tenants, store_configs, tenant_domains, tenant_settings, products,
--   orders, order_line_items, users, user_preferences
--
-- Depends on
--   007 (audit rows hold the key on insert), 009 (audit_log).
--
-- Locks (in this order; taken by the first two statements)
--   1. tenants: SHARE ROW EXCLUSIVE, waiting at most the runner's lock_timeout;
--   2. the eight other audited tables: SHARE ROW EXCLUSIVE, NOWAIT (a busy
--      table fails the file at once with 55P03; the runner rolls it back,
--      releasing all, and retries).
--   SHARE ROW EXCLUSIVE (DROP/CREATE TRIGGER) blocks writes to these tables,
--   not reads, until commit: the file changes only the catalog
--   (milliseconds). Dropping and re-creating each trigger in one transaction
--   leaves no moment without auditing.
--
-- Undo
--   A later migration re-creating <table>_audit as AFTER INSERT OR UPDATE OR
--   DELETE and dropping the <table>_audit_insert triggers.
--
-- Changing safely
--   A new audited table gets both triggers:
--     create trigger <t>_audit after update or delete on <t>
--       for each row execute function audit_trigger();
--     create trigger <t>_audit_insert after insert on <t>
--       referencing new table as new_rows
--       for each statement execute function audit_insert_rows();
-- =============================================================================

-- storedb:lint-ignore lock-table the documented lock order: one wait, then NOWAIT (README, "DDL and the locks it takes")
lock table tenants in share row exclusive mode;
-- storedb:lint-ignore lock-table the documented lock order: one wait, then NOWAIT
lock table store_configs, tenant_domains, tenant_settings, products, orders, order_line_items,
           users, user_preferences
  in share row exclusive mode nowait;


create function audit_insert_rows()
  returns trigger
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_user text := coalesce(nullif(current_setting('role'), 'none'), session_user);
begin
  if tg_level <> 'STATEMENT' or tg_op <> 'INSERT' then
    raise exception 'audit_insert_rows() must be an AFTER INSERT ... FOR EACH STATEMENT trigger '
                    'with REFERENCING NEW TABLE AS new_rows (table %.%)',
      tg_table_schema, tg_table_name;
  end if;
  if tg_table_name = 'tenants' then
    insert into public.audit_log
      (store_id, table_name, operation, row_key, db_user, db_session_user)
    select n.id, tg_table_name, 'insert', jsonb_build_object('id', n.id), v_user, session_user
      from new_rows n;
  else
    insert into public.audit_log
      (store_id, table_name, operation, row_key, db_user, db_session_user)
    select n.store_id, tg_table_name, 'insert',
           jsonb_build_object('store_id', n.store_id, 'id', n.id), v_user, session_user
      from new_rows n;
  end if;
  return null;
end;
$$;

comment on function audit_insert_rows() is
  'AFTER INSERT FOR EACH STATEMENT trigger (transition table new_rows): one audit_log row per '
  'inserted row, with its key (tenants: {id}; others: {store_id, id}). SECURITY DEFINER '
  '(storedb_definer); executable by nobody.';

do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not has_schema_privilege('storedb_definer', 'public', 'create') then
    grant create on schema public to storedb_definer;
    perform set_config('storedb.revoke_definer_create', 'on', true);
  end if;
end;
$$;

alter function audit_insert_rows() owner to storedb_definer;

do $$
begin
  if current_setting('storedb.revoke_definer_create', true) = 'on' then
    revoke create on schema public from storedb_definer;
  end if;
end;
$$;

revoke all on function audit_insert_rows() from public;


-- -----------------------------------------------------------------------------
-- The triggers, table by table (atomic: the file is one transaction)
-- -----------------------------------------------------------------------------
do $$
declare
  v_table text;
begin
  foreach v_table in array array[
      'tenants', 'store_configs', 'tenant_domains', 'tenant_settings', 'products', 'orders',
      'order_line_items', 'users', 'user_preferences'] loop
    execute format('drop trigger %I on public.%I', v_table || '_audit', v_table);
    execute format('create trigger %I after update or delete on public.%I '
                   'for each row execute function public.audit_trigger()',
                   v_table || '_audit', v_table);
    execute format('create trigger %I after insert on public.%I '
                   'referencing new table as new_rows '
                   'for each statement execute function public.audit_insert_rows()',
                   v_table || '_audit_insert', v_table);
  end loop;
end;
$$;
