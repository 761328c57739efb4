-- =============================================================================
-- migrations/008_review_indexes.sql — the index set reviewed (built and dropped concurrently)
-- storedb:no-transaction
-- =============================================================================
-- Purpose
--   Issue 16, points 1, 2 and 8. Every index costs every write; these earn
--   nothing or cost more than they serve:
--   * products_store_id_updated_at_idx, orders_store_id_updated_at_idx:
--     updated_at changes on every update, so with an index on it no update
--     of products or orders was ever HOT (n_tup_hot_upd = 0). Sorting a
--     store's rows by updated_at now reads the store's rows and sorts them.
--   * orders_store_id_created_at_idx: created_at and placed_at are the same
--     moment for every order placed through the app (imports keep the original
--     placed_at); lists sort by placed_at (orders_store_id_placed_at_idx).
--   * products_tags_idx (gin (store_id, tags)): `tags @>` is not LEAKPROOF, so
--     for storedb_app RLS never lets the GIN part be an index condition; every
--     write paid for a GIN index only roles bypassing RLS could use. A tag
--     search that needs it gets a SECURITY DEFINER function like
--     search_products() and the index back (README, "Indexes").
--   * store_configs_store_id_created_at_idx: one row per store;
--     store_configs_store_id_key serves every lookup.
--   * orders_store_id_{status,payment_status,fulfillment_status}_idx become
--     (store_id, <status>, placed_at desc) where deleted_at is null: "orders
--     with status X, newest first" reads exactly the rows it returns instead of
--     every order of the store with that status (200k discarded, 126 ms).
--   * products_store_id_status_idx becomes (store_id, status, created_at desc)
--     WITHOUT the `deleted_at is null` predicate: it was the only index other
--     than products_store_id_handle_key that the handle-collision query of
--     products_before_write() could use, and on a never-analysed table the
--     planner rated both at one row and cached the store-wide one (quadratic
--     bulk loads). Keep it that way: no other partial index `where deleted_at
--     is null` leading with store_id alone on products (tests/schema/
--     test_write_path.py checks the plan).
--   New, for later files:
--   * orders_store_id_id_currency_code_key: target of the line-item currency
--     foreign key (012).
--   * audit_log_store_id_at_id_key: the primary key of the partitioned
--     audit_log (009), built here without blocking writes.
--   * tenant_domains: a hostname is unique platform-wide among VERIFIED
--     domains only (tenant_domains_domain_verified_key replaces
--     tenant_domains_domain_key), and once per store
--     (tenant_domains_store_id_domain_key). Before, a store adding a domain
--     another store had claimed got a unique violation: an oracle telling it
--     which hostnames other stores use. Now any store may claim a hostname;
--     only the platform's verifier (DNS TXT token, verify_tenant_domain(),
--     010) makes a claim routable, and only one verified claim can exist.
--
-- Creates / drops: see above. Count afterwards: 24 store_id-led composite
-- indexes (tests/schema/test_indexes.py counts them).
--
-- Depends on
--   001, 002, 01_tenants.sql, 00_base.sql.
--
-- Locks
--   CREATE/DROP INDEX CONCURRENTLY take SHARE UPDATE EXCLUSIVE on the table:
--   reads and writes continue; only other DDL and VACUUM on that table wait.
--   Each statement waits for the transactions already touching the table
--   (the runner's lock_timeout does not bound that wait: a long transaction
--   delays this file, not the application). Tables, in this order: products,
--   orders, store_configs, audit_log, tenant_domains.
--
-- Undo
--   A new no-transaction migration re-creating the dropped indexes
--   concurrently (definitions in 001, 002, 01_tenants.sql) and dropping the
--   new ones. Re-creating an updated_at index ends HOT updates again.
--
-- Re-running
--   Every statement is `if [not] exists`: after a failure, re-run. A failed
--   CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it (`drop index
--   concurrently <name>`) before re-running.
-- =============================================================================

-- products
drop index concurrently if exists products_store_id_updated_at_idx;
drop index concurrently if exists products_tags_idx;
create index concurrently if not exists products_store_id_status_created_at_idx
  on products (store_id, status, created_at desc);
drop index concurrently if exists products_store_id_status_idx;

-- orders
drop index concurrently if exists orders_store_id_updated_at_idx;
drop index concurrently if exists orders_store_id_created_at_idx;
create index concurrently if not exists orders_store_id_status_placed_at_idx
  on orders (store_id, status, placed_at desc) where deleted_at is null;
create index concurrently if not exists orders_store_id_payment_status_placed_at_idx
  on orders (store_id, payment_status, placed_at desc) where deleted_at is null;
create index concurrently if not exists orders_store_id_fulfillment_status_placed_at_idx
  on orders (store_id, fulfillment_status, placed_at desc) where deleted_at is null;
drop index concurrently if exists orders_store_id_status_idx;
drop index concurrently if exists orders_store_id_payment_status_idx;
drop index concurrently if exists orders_store_id_fulfillment_status_idx;
create unique index concurrently if not exists orders_store_id_id_currency_code_key
  on orders (store_id, id, currency_code);

-- store_configs
drop index concurrently if exists store_configs_store_id_created_at_idx;

-- audit_log
create unique index concurrently if not exists audit_log_store_id_at_id_key
  on audit_log (store_id, at, id);

-- tenant_domains
create unique index concurrently if not exists tenant_domains_store_id_domain_key
  on tenant_domains (store_id, domain);
create unique index concurrently if not exists tenant_domains_domain_verified_key
  on tenant_domains (domain) where verified_at is not null;
comment on index tenant_domains_domain_verified_key is
  'storedb:global-unique — a verified hostname routes to exactly one store.';
drop index concurrently if exists tenant_domains_domain_key;
