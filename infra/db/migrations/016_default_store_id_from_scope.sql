-- =============================================================================
-- migrations/016_default_store_id_from_scope.sql — store_id defaults to the scope's store
-- =============================================================================
-- Purpose
--   Inside tenant_scope (a transaction that called set_current_store_id()),
--   an INSERT that leaves store_id out gets the current store, instead of
--   failing with "new row violates row-level security policy". Outside a
--   scope get_current_store_id() is NULL, so such an INSERT still fails, on
--   store_id's NOT NULL constraint, which names the column that is missing.
--   The default can never point a row at another store: it IS the value the
--   isolation policy's WITH CHECK demands.
--
-- Changes
--   Every table of schema public with a store_id column that has no default
--   yet (at the time of writing: store_configs, tenant_domains,
--   tenant_settings, products, orders, order_line_items,
--   order_display_id_counters, users, user_preferences, audit_log):
--     alter table <t> alter column store_id set default get_current_store_id();
--   A column that already has a default keeps it.
--
-- Depends on
--   00_base.sql (get_current_store_id()), the tenant tables of 01, 001-004,
--   and every later file that added a tenant table before this one.
--
-- Locks
--   SET DEFAULT changes the catalog only (no rewrite, no scan): it takes
--   SHARE ROW EXCLUSIVE on each table (writes wait, reads continue) for the
--   rest of this transaction, one table after the other in name order, each
--   wait bounded by the runner's lock_timeout. Nothing is held long.
--
-- Undo
--   A new migration: alter table <t> alter column store_id drop default;
--
-- New tenant tables
--   Declare the column as `store_id uuid not null default get_current_store_id()`.
-- =============================================================================

do $$
declare
  t record;
begin
  for t in
    select c.oid::regclass as rel
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attname = 'store_id'
                         and not a.attisdropped
     where n.nspname = 'public'
       and c.relkind in ('r', 'p')
       and not c.relispartition
       and not a.atthasdef
     order by c.relname
  loop
    execute format('alter table %s alter column store_id set default get_current_store_id()',
                   t.rel);
  end loop;
end;
$$;
