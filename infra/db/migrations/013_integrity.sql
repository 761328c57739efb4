-- =============================================================================
-- migrations/013_integrity.sql — rules the schema enforces instead of comments
-- =============================================================================
-- Purpose
--   Issue 16, point 6.
--   * order_line_items.currency_code must equal its order's: a composite
--     foreign key (store_id, order_id, currency_code) -> orders (store_id, id,
--     currency_code) (target: orders_store_id_id_currency_code_key, 008).
--     ON UPDATE CASCADE: changing an order's currency carries its lines along.
--   * orders.display_id at most 999,999,999 (orders_display_id_max_check),
--     and so the counter (order_display_id_counters_last_display_id_max_check):
--     an imported 2147483647 used to raise the counter to the integer maximum,
--     after which every new order of the store failed with "integer out of
--     range". Now such an import is refused with the constraint's name, and
--     numbering can never overflow. (The counter can no longer be reset:
--     010.) Orders default to the store's currency: 010.
--   * A published product has a price (products_published_price_check).
--   * Time zones are checked against the server's list (pg_timezone_names),
--     not by "does `now() at time zone x` work", which accepted POSIX strings
--     such as 'XYZ+3'. The list is cached in time_zone_names (reading
--     pg_timezone_names costs ~40 ms: it reads every zone file); a name missing
--     from the cache is looked up in pg_timezone_names itself, so a zone added
--     by a tzdata upgrade is accepted too (refresh the cache: README).
--   The constraints are added NOT VALID: every new or changed row is checked
--   from now on; 014 checks the existing rows and validates them.
--
-- Creates
--   constraints: order_line_items_store_id_order_id_currency_code_fkey,
--                orders_display_id_max_check,
--                order_display_id_counters_last_display_id_max_check,
--                products_published_price_check (all NOT VALID)
--   table      : time_zone_names (reference data, no store_id)
-- Changes
--   function   : validate_timezone() (SECURITY DEFINER now, owned by
--                storedb_definer, so it can read time_zone_names whoever writes)
--
-- Depends on
--   001, 002, 003, 008 (orders_store_id_id_currency_code_key), 010.
--
-- Locks (in this order; taken by the first statement, the rest NOWAIT)
--   1. order_line_items: SHARE ROW EXCLUSIVE (the new foreign key), waiting at
--      most the runner's lock_timeout;
--   2. orders: ACCESS EXCLUSIVE, NOWAIT (ADD CONSTRAINT ... CHECK; the foreign
--      key needs SHARE ROW EXCLUSIVE on it as well);
--   3. order_display_id_counters, products: ACCESS EXCLUSIVE, NOWAIT.
--   A NOWAIT failure (55P03) rolls the file back and the runner retries: no
--   ACCESS EXCLUSIVE lock is held while waiting for another. All are held
--   until commit; NOT VALID means no row is scanned, so that is milliseconds.
--
-- Undo
--   Never edit this file once applied. A later migration may drop the
--   constraints; validate_timezone() can be restated from 006.
--
-- Changing safely
--   * A new money table with a currency: reference its parent's
--     (store_id, id, currency_code) the same way.
--   * New CHECKs: `not valid` here, `validate constraint` in a later file.
-- =============================================================================

lock table order_line_items in share row exclusive mode;
lock table orders in access exclusive mode nowait;
lock table order_display_id_counters, products in access exclusive mode nowait;


-- -----------------------------------------------------------------------------
-- Constraints (NOT VALID: new rows checked now, old rows in 014)
-- -----------------------------------------------------------------------------
alter table order_line_items
  add constraint order_line_items_store_id_order_id_currency_code_fkey
  foreign key (store_id, order_id, currency_code)
  references orders (store_id, id, currency_code)
  on update cascade
  not valid;
comment on column order_line_items.currency_code is
  'Equals the order''s currency_code (order_line_items_store_id_order_id_currency_code_fkey).';

alter table orders
  add constraint orders_display_id_max_check check (display_id <= 999999999) not valid;
alter table order_display_id_counters
  add constraint order_display_id_counters_last_display_id_max_check
  check (last_display_id <= 999999999) not valid;

alter table products
  add constraint products_published_price_check
  check (status <> 'published' or price is not null) not valid;
comment on column products.price is
  'Selling price in minor units of currency_code (e.g. cents); NULL = not priced yet (drafts only: '
  'products_published_price_check).';


-- -----------------------------------------------------------------------------
-- time_zone_names: the server's zone list, cached
-- -----------------------------------------------------------------------------
create table time_zone_names (
  name       text        not null,
  created_at timestamptz not null default now(),

  constraint time_zone_names_pkey primary key (name)
);

comment on table time_zone_names is
  'Cache of pg_timezone_names.name for validate_timezone() (reading the view costs ~40 ms). '
  'Refresh after a tzdata upgrade: insert into time_zone_names (name) select name from '
  'pg_timezone_names on conflict do nothing;';

insert into time_zone_names (name)
select name from pg_timezone_names
on conflict (name) do nothing;

-- Safe: new table; only validate_timezone() (as storedb_definer) reads it.
revoke all on table time_zone_names from public;
grant select on table time_zone_names to storedb_definer;

create or replace function validate_timezone()
  returns trigger
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  if new.timezone is not null
     and not exists (select 1 from public.time_zone_names z where z.name = new.timezone)
     and not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = new.timezone)
  then
    raise exception using
      errcode    = 'check_violation',
      constraint = tg_table_name || '_timezone_check',
      table      = tg_table_name,
      column     = 'timezone',
      message    = format('time zone "%s" is not recognized', new.timezone),
      hint       = 'use a time zone name of the server''s list (pg_timezone_names), '
                   'such as Europe/Paris or UTC';
  end if;
  return new;
end;
$$;

comment on function validate_timezone() is
  'BEFORE INSERT/UPDATE trigger: rejects a NEW.timezone missing from the server''s list '
  '(time_zone_names, then pg_timezone_names) with check_violation <table>_timezone_check. '
  'SECURITY DEFINER (storedb_definer).';

do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not has_schema_privilege('storedb_definer', 'public', 'create') then
    grant create on schema public to storedb_definer;
    perform set_config('storedb.revoke_definer_create', 'on', true);
  end if;
end;
$$;

alter function validate_timezone() owner to storedb_definer;

do $$
begin
  if current_setting('storedb.revoke_definer_create', true) = 'on' then
    revoke create on schema public from storedb_definer;
  end if;
end;
$$;
