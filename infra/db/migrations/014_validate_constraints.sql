-- =============================================================================
-- migrations/014_validate_constraints.sql — validate the NOT VALID constraints of 011 and 013
-- =============================================================================
-- Purpose
--   The second half of "NOT VALID, then VALIDATE in a separate file": 011 and
--   013 added constraints that already check every new or changed row; this
--   file checks the rows written before them. VALIDATE CONSTRAINT scans the
--   table under SHARE UPDATE EXCLUSIVE: reads and writes go on meanwhile.
--   Each VALIDATE runs in its own subtransaction: if old rows break a rule
--   the constraint stays NOT VALID (still enforced for new rows), a WARNING
--   names it and the query that finds the rows; nothing else is held up.
--   A DBA fixes those rows (their owners decide: a published product without
--   a price, a line item in the wrong currency) and runs the VALIDATE again
--   (README, "Monitoring": NOT VALID constraints).
--
-- Changes
--   validates: tenants_status_deleted_at_check, users_status_deleted_at_check
--              (011); order_line_items_store_id_order_id_currency_code_fkey,
--              orders_display_id_max_check,
--              order_display_id_counters_last_display_id_max_check,
--              products_published_price_check (013)
--
-- Depends on
--   011, 013.
--
-- Locks
--   In the order above, SHARE UPDATE EXCLUSIVE on each validated table (and
--   ROW SHARE on orders for the foreign key), each held until this file
--   commits: reads and writes continue throughout; only other DDL, VACUUM
--   and ANALYZE of these tables wait. Nothing stronger is taken, so waiting
--   for one of them never blocks the application. The scans take time in
--   proportion to the tables (orders, products, order_line_items).
--
-- Undo
--   Nothing to undo: a validated constraint only records that old rows were
--   checked. Drop a constraint in a later migration if needed.
-- =============================================================================

do $$
declare
  v_item record;
begin
  for v_item in
    select * from (values
      (1, 'tenants', 'tenants_status_deleted_at_check',
       'select id from tenants where (status = ''archived'') <> (deleted_at is not null)'),
      (2, 'users', 'users_status_deleted_at_check',
       'select store_id, id from users where (status = ''archived'') <> (deleted_at is not null)'),
      (3, 'order_line_items', 'order_line_items_store_id_order_id_currency_code_fkey',
       'select l.store_id, l.id from order_line_items l join orders o on o.store_id = l.store_id '
       'and o.id = l.order_id where l.currency_code <> o.currency_code'),
      (4, 'orders', 'orders_display_id_max_check',
       'select store_id, id from orders where display_id > 999999999'),
      (5, 'order_display_id_counters', 'order_display_id_counters_last_display_id_max_check',
       'select store_id from order_display_id_counters where last_display_id > 999999999'),
      (6, 'products', 'products_published_price_check',
       'select store_id, id from products where status = ''published'' and price is null')
    ) as v (n, tbl, con, finder)
    order by n
  loop
    begin
      execute format('alter table public.%I validate constraint %I', v_item.tbl, v_item.con);
    exception
      when check_violation or foreign_key_violation then
        raise warning using
          message = format('%s.%s stays NOT VALID: rows written before it break it (%s)',
                           v_item.tbl, v_item.con, sqlerrm),
          hint    = format('as a BYPASSRLS role or per store, find them with: %s; fix them, then '
                           'run: alter table %I validate constraint %I;',
                           v_item.finder, v_item.tbl, v_item.con);
    end;
  end loop;
end;
$$;
