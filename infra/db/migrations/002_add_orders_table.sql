-- =============================================================================
-- migrations/002_add_orders_table.sql — orders and their line items
-- =============================================================================
-- Purpose
--   Orders with per-store sequential display numbers, flattened billing and
--   shipping addresses, money totals in minor units, and their line items.
--
-- Creates
--   tables    : order_display_id_counters, orders (13 indexes),
--               order_line_items (3 indexes)
--   function  : orders_assign_display_id() (trigger)
--   triggers  : orders_assign_display_id, <table>_set_updated_at,
--               orders_audit, order_line_items_audit
--
-- Depends on
--   00_base.sql (order/payment/fulfillment_status, update_updated_at_column(),
--   audit_trigger()), 01_tenants.sql (tenants), 001 (products).
--
-- Locks
--   Two existing tables: tenants and products. The foreign keys to tenants
--   (order_display_id_counters, orders, order_line_items _store_id_fkey) take
--   SHARE ROW EXCLUSIVE on tenants, order_line_items_store_id_product_id_fkey
--   takes SHARE ROW EXCLUSIVE on products; both are held until this file's
--   transaction commits. For that long INSERT/UPDATE/DELETE on tenants
--   (create_tenant(), soft_delete_tenant(), tenant updates) and on products
--   wait; reads of either do not. No existing row is scanned (the new tables
--   are empty). Everything else is new. The runner runs the file with a short
--   lock_timeout (--statement-lock-timeout, 5 s) and, if a lock wait times
--   out, rolls the file back and retries it (--lock-retries).
--
-- Undo
--   Never edit this file once applied. Undo with a new migration:
--   `drop table order_line_items, orders, order_display_id_counters;`
--   (destructive: all orders of all stores) then
--   `drop function orders_assign_display_id();`.
--
-- Changing safely
--   * Never lower order_display_id_counters.last_display_id: numbers would be
--     reused and inserts fail on orders_store_id_display_id_key.
--   * New total column: add it to orders_total_check in the same migration
--     (drop + add `not valid` + validate).
--   * New index on a populated table: `-- storedb:no-transaction` file with
--     `create index concurrently if not exists`, leading with store_id.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- order_display_id_counters: last display number used per store
-- -----------------------------------------------------------------------------
create table order_display_id_counters (
  store_id        uuid        not null,
  last_display_id integer     not null,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),

  constraint order_display_id_counters_pkey primary key (store_id),
  constraint order_display_id_counters_store_id_fkey
    foreign key (store_id) references tenants (id) on delete cascade,
  constraint order_display_id_counters_last_display_id_check
    check (last_display_id >= 0)
);

comment on table order_display_id_counters is
  'Per-store counter behind orders.display_id, maintained by orders_assign_display_id(). '
  'Its row lock serialises concurrent order inserts of one store only. Not audited (derived data).';
comment on column order_display_id_counters.last_display_id is
  'Highest display_id handed out or inserted explicitly for the store.';

create trigger order_display_id_counters_set_updated_at
  before update on order_display_id_counters
  for each row execute function update_updated_at_column();


-- -----------------------------------------------------------------------------
-- orders
-- -----------------------------------------------------------------------------
create table orders (
  id                    uuid               not null default gen_random_uuid(),
  store_id              uuid               not null,
  display_id            integer            not null,

  -- state
  status                order_status       not null default 'pending',
  payment_status        payment_status     not null default 'not_paid',
  fulfillment_status    fulfillment_status not null default 'not_fulfilled',

  -- customer
  customer_id           uuid,
  customer_email        text,
  customer_name         text,
  customer_phone        text,

  -- billing address
  billing_first_name    text,
  billing_last_name     text,
  billing_company       text,
  billing_address_1     text,
  billing_address_2     text,
  billing_city          text,
  billing_province      text,
  billing_postal_code   text,
  billing_country_code  text,
  billing_phone         text,

  -- shipping address
  shipping_first_name   text,
  shipping_last_name    text,
  shipping_company      text,
  shipping_address_1    text,
  shipping_address_2    text,
  shipping_city         text,
  shipping_province     text,
  shipping_postal_code  text,
  shipping_country_code text,
  shipping_phone        text,

  -- money (minor units of currency_code)
  currency_code         text               not null,
  tax_inclusive         boolean            not null default false,
  subtotal              bigint             not null default 0,
  discount_total        bigint             not null default 0,
  shipping_total        bigint             not null default 0,
  tax_total             bigint             not null default 0,
  gift_card_total       bigint             not null default 0,
  total                 bigint             not null default 0,
  paid_total            bigint             not null default 0,
  refunded_total        bigint             not null default 0,

  -- origin
  idempotency_key       text,
  cart_id               uuid,
  external_id           text,
  sales_channel         text               not null default 'web',
  locale                text,

  -- timeline
  placed_at             timestamptz        not null default now(),
  paid_at               timestamptz,
  fulfilled_at          timestamptz,
  shipped_at            timestamptz,
  canceled_at           timestamptz,

  notes                 text,
  metadata              jsonb              not null default '{}',
  deleted_at            timestamptz,
  created_at            timestamptz        not null default now(),
  updated_at            timestamptz        not null default now(),

  constraint orders_pkey primary key (store_id, id),
  constraint orders_store_id_display_id_key unique (store_id, display_id),
  constraint orders_store_id_fkey
    foreign key (store_id) references tenants (id) on delete cascade,

  constraint orders_display_id_check     check (display_id > 0),
  constraint orders_customer_email_check
    check (customer_email = lower(customer_email) and customer_email ~ '^[^@\s]+@[^@\s]+$'),
  constraint orders_billing_country_code_check  check (billing_country_code ~ '^[A-Z]{2}$'),
  constraint orders_shipping_country_code_check check (shipping_country_code ~ '^[A-Z]{2}$'),
  constraint orders_currency_code_check  check (currency_code ~ '^[A-Z]{3}$'),
  constraint orders_subtotal_check        check (subtotal >= 0),
  constraint orders_discount_total_check  check (discount_total >= 0),
  constraint orders_shipping_total_check  check (shipping_total >= 0),
  constraint orders_tax_total_check       check (tax_total >= 0),
  constraint orders_gift_card_total_check check (gift_card_total >= 0),
  constraint orders_total_check
    check (total >= 0
           and total = subtotal - discount_total + shipping_total - gift_card_total
                       + case when tax_inclusive then 0 else tax_total end),
  constraint orders_paid_total_check      check (paid_total >= 0),
  constraint orders_refunded_total_check
    check (refunded_total >= 0 and refunded_total <= paid_total),
  constraint orders_sales_channel_check   check (sales_channel ~ '^[a-z0-9_-]{1,50}$'),
  constraint orders_locale_check          check (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  constraint orders_metadata_check        check (jsonb_typeof(metadata) = 'object')
);


-- -----------------------------------------------------------------------------
-- orders indexes (all lead with store_id)
-- -----------------------------------------------------------------------------
-- retried checkout requests must not create a second order
create unique index orders_store_id_idempotency_key_key
  on orders (store_id, idempotency_key) where idempotency_key is not null;
create index orders_store_id_created_at_idx
  on orders (store_id, created_at desc);
create index orders_store_id_placed_at_idx
  on orders (store_id, placed_at desc);
create index orders_store_id_updated_at_idx
  on orders (store_id, updated_at desc);
create index orders_store_id_status_idx
  on orders (store_id, status) where deleted_at is null;
create index orders_store_id_payment_status_idx
  on orders (store_id, payment_status) where deleted_at is null;
create index orders_store_id_fulfillment_status_idx
  on orders (store_id, fulfillment_status) where deleted_at is null;
create index orders_store_id_customer_id_idx
  on orders (store_id, customer_id, placed_at desc) where customer_id is not null;
create index orders_store_id_customer_email_idx
  on orders (store_id, customer_email) where customer_email is not null;
create index orders_store_id_cart_id_idx
  on orders (store_id, cart_id) where cart_id is not null;
create index orders_store_id_external_id_idx
  on orders (store_id, external_id) where external_id is not null;


-- -----------------------------------------------------------------------------
-- orders_assign_display_id(): per-store order number
-- -----------------------------------------------------------------------------
-- display_id NULL  -> next number of the store, via an upsert on the
--                     counter row (its row lock serialises concurrent inserts
--                     of the same store only; other stores are not blocked).
-- display_id given -> (imports, seed) the counter is raised to at least that
--                     value, never lowered; unchanged if already higher, so
--                     re-inserting known rows writes nothing.
-- The counter is not rolled back by a failing later statement of another
-- transaction: gaps are possible after rollbacks, duplicates are not.
create or replace function orders_assign_display_id()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, public
as $$
begin
  if new.display_id is null then
    insert into order_display_id_counters as c (store_id, last_display_id)
    values (new.store_id, 1)
    on conflict (store_id) do update
      set last_display_id = c.last_display_id + 1
    returning c.last_display_id into new.display_id;
  else
    insert into order_display_id_counters as c (store_id, last_display_id)
    values (new.store_id, new.display_id)
    on conflict (store_id) do update
      set last_display_id = greatest(c.last_display_id, excluded.last_display_id)
      where c.last_display_id < excluded.last_display_id;
  end if;
  return new;
end;
$$;

comment on function orders_assign_display_id() is
  'BEFORE INSERT on orders: assigns display_id from order_display_id_counters, or raises '
  'the counter to an explicit display_id.';

create trigger orders_assign_display_id
  before insert on orders
  for each row execute function orders_assign_display_id();
create trigger orders_set_updated_at
  before update on orders
  for each row execute function update_updated_at_column();
create trigger orders_audit
  after insert or update or delete on orders
  for each row execute function audit_trigger();


-- -----------------------------------------------------------------------------
-- orders documentation
-- -----------------------------------------------------------------------------
comment on table orders is
  'Customer orders of a store. Money in minor units of currency_code. Soft-deleted via deleted_at.';
comment on column orders.display_id is
  'Human order number, 1, 2, 3... per store (orders_store_id_display_id_key); assigned by trigger when NULL.';
comment on column orders.status is 'Overall order state.';
comment on column orders.payment_status is 'Payment state (authorized, captured, refunded...).';
comment on column orders.fulfillment_status is 'Fulfillment/shipping state.';
comment on column orders.customer_id is 'Customer id in the customer service (no customers table: no FK).';
comment on column orders.customer_email is 'Customer e-mail at order time, lower case.';
comment on column orders.customer_name is 'Customer full name at order time.';
comment on column orders.billing_country_code is 'ISO 3166-1 alpha-2, upper case.';
comment on column orders.shipping_country_code is 'ISO 3166-1 alpha-2, upper case.';
comment on column orders.currency_code is 'ISO 4217 currency of every amount of the order.';
comment on column orders.tax_inclusive is 'true = item prices include tax, so tax_total is not added to total.';
comment on column orders.subtotal is 'Sum of line item totals (minor units).';
comment on column orders.discount_total is 'Order-level discounts (minor units).';
comment on column orders.shipping_total is 'Shipping charged (minor units).';
comment on column orders.tax_total is 'Tax (minor units); included in prices when tax_inclusive.';
comment on column orders.gift_card_total is 'Amount covered by gift cards (minor units).';
comment on column orders.total is
  'Amount due: subtotal - discount_total + shipping_total - gift_card_total (+ tax_total unless tax_inclusive).';
comment on column orders.paid_total is 'Amount captured so far (minor units).';
comment on column orders.refunded_total is 'Amount refunded so far, <= paid_total (minor units).';
comment on column orders.idempotency_key is 'Client key of the checkout request; unique per store when set.';
comment on column orders.cart_id is 'Cart the order was created from.';
comment on column orders.external_id is 'Id of the order in an external system (marketplace, ERP).';
comment on column orders.sales_channel is 'Where the order came from: web, pos, marketplace name...';
comment on column orders.locale is 'BCP 47 locale of the customer at checkout.';
comment on column orders.placed_at is 'When the customer placed the order (imports keep the original time).';
comment on column orders.notes is 'Internal staff notes, never shown to the customer.';
comment on column orders.metadata is 'Free-form JSON object for integrations.';
comment on column orders.deleted_at is 'Soft-delete time; NULL = live. display_id stays taken.';


-- -----------------------------------------------------------------------------
-- order_line_items
-- -----------------------------------------------------------------------------
create table order_line_items (
  id             uuid        not null default gen_random_uuid(),
  store_id       uuid        not null,
  order_id       uuid        not null,
  product_id     uuid,
  title          text        not null,
  sku            text,
  thumbnail      text,
  quantity       integer     not null,
  unit_price     bigint      not null,
  discount_total bigint      not null default 0,
  total          bigint      generated always as (quantity * unit_price - discount_total) stored,
  currency_code  text        not null,
  metadata       jsonb       not null default '{}',
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),

  constraint order_line_items_pkey primary key (store_id, id),
  constraint order_line_items_store_id_fkey
    foreign key (store_id) references tenants (id) on delete cascade,
  constraint order_line_items_store_id_order_id_fkey
    foreign key (store_id, order_id) references orders (store_id, id) on delete cascade,
  -- the line keeps its snapshot when the product is hard-deleted; only
  -- product_id is cleared (store_id is part of other keys)
  constraint order_line_items_store_id_product_id_fkey
    foreign key (store_id, product_id) references products (store_id, id)
    on delete set null (product_id),

  constraint order_line_items_title_check      check (btrim(title) <> ''),
  constraint order_line_items_quantity_check   check (quantity > 0),
  constraint order_line_items_unit_price_check check (unit_price >= 0),
  constraint order_line_items_discount_total_check
    check (discount_total >= 0 and discount_total <= quantity * unit_price),
  constraint order_line_items_currency_code_check check (currency_code ~ '^[A-Z]{3}$'),
  constraint order_line_items_metadata_check   check (jsonb_typeof(metadata) = 'object')
);

create index order_line_items_store_id_order_id_idx
  on order_line_items (store_id, order_id);
create index order_line_items_store_id_product_id_idx
  on order_line_items (store_id, product_id) where product_id is not null;

create trigger order_line_items_set_updated_at
  before update on order_line_items
  for each row execute function update_updated_at_column();
create trigger order_line_items_audit
  after insert or update or delete on order_line_items
  for each row execute function audit_trigger();

comment on table order_line_items is
  'Lines of an order with a snapshot of the product at order time.';
comment on column order_line_items.product_id is
  'Product ordered; set to NULL if the product is hard-deleted (snapshot columns remain).';
comment on column order_line_items.title is 'Product title at order time (snapshot).';
comment on column order_line_items.sku is 'SKU at order time (snapshot).';
comment on column order_line_items.unit_price is 'Price of one unit in minor units of currency_code.';
comment on column order_line_items.discount_total is 'Discount on this line (minor units).';
comment on column order_line_items.total is 'quantity * unit_price - discount_total (generated).';
comment on column order_line_items.currency_code is 'Must equal the order''s currency_code.';
