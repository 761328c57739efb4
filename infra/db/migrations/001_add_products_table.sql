-- =============================================================================
-- migrations/001_add_products_table.sql — product catalogue
-- =============================================================================
-- Purpose
--   The products table (Medusa product model in spirit, variants flattened
--   into the product: one SKU, one price per product).
--
-- Creates
--   table     : products (14 indexes, see "Indexes")
--   function  : products_before_write() (trigger: handle, currency, published_at)
--   triggers  : products_before_write, products_set_updated_at, products_audit
--
-- Depends on
--   00_base.sql (product_status, generate_slug(), update_updated_at_column(),
--   audit_trigger(), pg_trgm, btree_gin), 01_tenants.sql (tenants,
--   tenant_settings).
--
-- Locks
--   One existing table: tenants. The foreign key products_store_id_fkey takes
--   SHARE ROW EXCLUSIVE on tenants and holds it until this file's transaction
--   commits: for that long INSERT/UPDATE/DELETE on tenants wait
--   (create_tenant(), soft_delete_tenant(), a store updating its tenant row);
--   reads of tenants do not. No existing row is scanned (products is new and
--   empty). Everything else is new. The runner runs the file with a short
--   lock_timeout (--statement-lock-timeout, 5 s): it never queues behind a
--   long transaction on tenants for longer; on a timeout the file is rolled
--   back and retried (--lock-retries).
--
-- Undo
--   Never edit this file once applied. Undo with a new migration:
--   `drop table products;` (destructive: every product of every store; order
--   line items keep their title/sku snapshots, their product_id becomes
--   unusable) then `drop function products_before_write();`.
--
-- Changing safely
--   * New column: nullable or with a constant default (no table rewrite).
--   * New index on a populated table: a `-- storedb:no-transaction` migration
--     with `create index concurrently if not exists ...`, leading with store_id.
--   * New CHECK: add `not valid`, then `validate constraint` in a later file.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- Table
-- -----------------------------------------------------------------------------
-- A draft product needs only store_id and title: every other column has a
-- default, is nullable, or is filled by products_before_write().
create table products (
  id                 uuid           not null default gen_random_uuid(),
  store_id           uuid           not null,

  -- descriptive
  title              text           not null,
  subtitle           text,
  handle             text           not null,
  description        text,
  status             product_status not null default 'draft',
  thumbnail          text,
  images             jsonb          not null default '[]',
  vendor             text,
  type               text,
  collection_id      uuid,
  tags               text[]         not null default '{}',
  material           text,
  seo_title          text,
  seo_description    text,

  -- identification
  sku                text,
  barcode            text,
  external_id        text,

  -- pricing (minor units, e.g. cents)
  price              bigint,
  compare_at_price   bigint,
  cost_price         bigint,
  currency_code      text           not null,
  discountable       boolean        not null default true,
  taxable            boolean        not null default true,
  tax_code           text,
  is_giftcard        boolean        not null default false,

  -- inventory
  inventory_quantity integer        not null default 0,
  inventory_policy   text           not null default 'deny',
  manage_inventory   boolean        not null default true,

  -- shipping and customs
  requires_shipping  boolean        not null default true,
  weight             numeric(12, 3),
  length             numeric(12, 3),
  height             numeric(12, 3),
  width              numeric(12, 3),
  hs_code            text,
  origin_country     text,
  mid_code           text,

  -- bookkeeping
  metadata           jsonb          not null default '{}',
  published_at       timestamptz,
  deleted_at         timestamptz,
  created_at         timestamptz    not null default now(),
  updated_at         timestamptz    not null default now(),

  constraint products_pkey primary key (store_id, id),
  constraint products_store_id_fkey
    foreign key (store_id) references tenants (id) on delete cascade,

  constraint products_title_check
    check (btrim(title) <> '' and length(title) <= 500),
  constraint products_handle_check
    check (handle ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(handle) <= 255),
  constraint products_images_check
    check (jsonb_typeof(images) = 'array'),
  constraint products_metadata_check
    check (jsonb_typeof(metadata) = 'object'),
  constraint products_price_check            check (price >= 0),
  constraint products_compare_at_price_check check (compare_at_price >= 0),
  constraint products_cost_price_check       check (cost_price >= 0),
  constraint products_currency_code_check    check (currency_code ~ '^[A-Z]{3}$'),
  constraint products_inventory_policy_check
    check (inventory_policy in ('deny', 'continue')),
  -- stock may only go negative when overselling is allowed
  constraint products_inventory_quantity_check
    check (inventory_quantity >= 0 or inventory_policy = 'continue'),
  constraint products_weight_check           check (weight >= 0),
  constraint products_length_check           check (length >= 0),
  constraint products_height_check           check (height >= 0),
  constraint products_width_check            check (width >= 0),
  constraint products_origin_country_check   check (origin_country ~ '^[A-Z]{2}$')
);


-- -----------------------------------------------------------------------------
-- Indexes (all lead with store_id)
-- -----------------------------------------------------------------------------
-- storefront URL /products/<handle>; soft-deleted products release the handle
create unique index products_store_id_handle_key
  on products (store_id, handle) where deleted_at is null;
-- SKU unique per store among live products
create unique index products_store_id_sku_key
  on products (store_id, sku) where sku is not null and deleted_at is null;
create index products_store_id_status_idx
  on products (store_id, status) where deleted_at is null;
create index products_store_id_created_at_idx
  on products (store_id, created_at desc);
create index products_store_id_updated_at_idx
  on products (store_id, updated_at desc);
create index products_store_id_published_at_idx
  on products (store_id, published_at desc)
  where status = 'published' and deleted_at is null;
create index products_store_id_collection_id_idx
  on products (store_id, collection_id) where collection_id is not null;
create index products_store_id_type_idx
  on products (store_id, type) where type is not null;
create index products_store_id_external_id_idx
  on products (store_id, external_id) where external_id is not null;
create index products_store_id_barcode_idx
  on products (store_id, barcode) where barcode is not null;
create index products_store_id_deleted_at_idx
  on products (store_id, deleted_at) where deleted_at is not null;
-- GIN indexes lead with store_id too, through btree_gin's uuid operator
-- class (00_base.sql): one index scan matches the store and the tags / title
-- trigrams together, e.g. `store_id = $1 and tags @> $2`,
-- `store_id = $1 and title ilike '%mug%'`.
-- Caveat (RLS): for a role subject to RLS (storedb_app) PostgreSQL evaluates
-- the policy before any condition whose operator is not LEAKPROOF, and may not
-- use such a condition as an index condition. @>, LIKE/ILIKE and the pg_trgm
-- operators are not leakproof, so an application query can use only the
-- store_id part of an index (the planner takes a btree one) and filters
-- tags/title row by row within the store; the tags/trigram part serves roles
-- that bypass RLS (storedb_definer functions, maintenance, reporting): the
-- app's title search goes through search_products() (migration 005). See
-- infra/db/README.md, "Tenant-table rules".
create index products_tags_idx on products using gin (store_id, tags);
create index products_title_trgm_idx on products using gin (store_id, title gin_trgm_ops);


-- -----------------------------------------------------------------------------
-- products_before_write(): defaults that need a query or another column
-- -----------------------------------------------------------------------------
-- * handle NULL -> generate_slug(title); if that handle is taken by a live
--   product of the same store, -2, -3, ... is appended. (Two concurrent
--   inserts of the same title can still pick the same handle: the second
--   gets unique_violation on products_store_id_handle_key and may retry.)
-- * currency_code NULL -> the store's tenant_settings.currency_code, else USD.
-- * status published and published_at NULL -> published_at = now().
create or replace function products_before_write()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, public
as $$
declare
  v_base   text;
  v_suffix integer := 1;
begin
  if new.handle is null then
    v_base := generate_slug(new.title);
    new.handle := v_base;
    while exists (select 1
                    from products p
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
      from tenant_settings s
     where s.store_id = new.store_id;
    new.currency_code := coalesce(new.currency_code, 'USD');
  end if;

  if new.status = 'published' and new.published_at is null then
    new.published_at := now();
  end if;

  return new;
end;
$$;

comment on function products_before_write() is
  'BEFORE INSERT/UPDATE on products: fills handle (unique slug of title), currency_code '
  '(store default) and published_at.';

create trigger products_before_write
  before insert or update on products
  for each row execute function products_before_write();
create trigger products_set_updated_at
  before update on products
  for each row execute function update_updated_at_column();
create trigger products_audit
  after insert or update or delete on products
  for each row execute function audit_trigger();


-- -----------------------------------------------------------------------------
-- Documentation
-- -----------------------------------------------------------------------------
comment on table products is
  'Catalogue products of a store (one sellable item each). Soft-deleted via deleted_at.';
comment on column products.title is 'Product name shown to shoppers (not blank, <= 500 chars).';
comment on column products.subtitle is 'Optional tagline shown under the title.';
comment on column products.handle is
  'URL slug, unique per store among live products; defaults to generate_slug(title), with -2, -3... on collision.';
comment on column products.status is 'draft -> proposed -> published | rejected. Storefronts show only published.';
comment on column products.thumbnail is 'URL of the main image.';
comment on column products.images is 'JSON array of images, e.g. [{"url": "...", "alt": "..."}].';
comment on column products.vendor is 'Brand or manufacturer.';
comment on column products.type is 'Free-form product type used for filtering, e.g. "T-Shirt".';
comment on column products.collection_id is 'Id of the collection the product belongs to (no collections table yet: no FK).';
comment on column products.tags is 'Search/filter tags (GIN index products_tags_idx).';
comment on column products.seo_title is 'HTML <title> override.';
comment on column products.seo_description is 'Meta description override.';
comment on column products.sku is 'Stock keeping unit, unique per store among live products.';
comment on column products.barcode is 'EAN/UPC/ISBN barcode.';
comment on column products.external_id is 'Id of the product in an external system (import source, ERP).';
comment on column products.price is 'Selling price in minor units of currency_code (e.g. cents); NULL = not priced yet.';
comment on column products.compare_at_price is 'Former/list price in minor units, shown struck through.';
comment on column products.cost_price is 'Purchase cost in minor units (margin reports); never shown to shoppers.';
comment on column products.currency_code is 'ISO 4217 currency of the prices; defaults to the store currency.';
comment on column products.discountable is 'false = discounts never apply to this product.';
comment on column products.tax_code is 'Tax category code for the tax provider.';
comment on column products.is_giftcard is 'true = the product is a gift card.';
comment on column products.inventory_quantity is 'Units in stock; negative only with inventory_policy = continue.';
comment on column products.inventory_policy is 'deny = stop selling at 0; continue = allow backorders.';
comment on column products.manage_inventory is 'false = stock is not tracked (inventory_quantity ignored).';
comment on column products.weight is 'Weight in tenant_settings.weight_unit.';
comment on column products.length is 'Length in tenant_settings.dimension_unit.';
comment on column products.height is 'Height in tenant_settings.dimension_unit.';
comment on column products.width is 'Width in tenant_settings.dimension_unit.';
comment on column products.hs_code is 'Harmonized System customs code.';
comment on column products.origin_country is 'ISO 3166-1 alpha-2 country of origin (customs).';
comment on column products.mid_code is 'Manufacturer identification code (US customs).';
comment on column products.metadata is 'Free-form JSON object for integrations.';
comment on column products.published_at is 'First time the product was published (set automatically).';
comment on column products.deleted_at is 'Soft-delete time; NULL = live.';
