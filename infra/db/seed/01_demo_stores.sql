-- =============================================================================
-- seed/01_demo_stores.sql — development data: three demo stores
-- =============================================================================
-- Purpose
--   Realistic demo data for local development and UI work. NEVER apply to
--   production (the runner applies seed files only on request).
--
-- Creates (rows only)
--   store 1  5eed0001-0000-4000-8000-000000000000  nordic-threads     SEK, sv-SE
--   store 2  5eed0002-0000-4000-8000-000000000000  brew-bros-coffee   USD, en-US
--   store 3  5eed0003-0000-4000-8000-000000000000  atelier-ceramique  EUR, fr-FR
--   each with its store_config, tenant_settings, one verified primary domain,
--   5-7 products, 2-3 orders with line items (explicit display_id), users
--   with preferences. Audit rows are written by the triggers on first run.
--
-- Ids
--   Fixed, readable UUIDs: 5eed000<store>-<kind>-4000-8000-<n>, kind 0000
--   tenant, 0001 store_config, 0002 tenant_settings, 0003 domain,
--   0010 product, 0020 order, 0021 line item, 0030 user, 0031 preferences.
--
-- Depends on
--   All schema files and migrations 001-004. Must run inside ONE transaction
--   (the runner does): set_current_store_id() is transaction-local and FORCE
--   RLS applies to the table owner too.
--
-- Idempotent
--   Every insert is `on conflict (<key>) do nothing`, so a second run inserts
--   nothing: no new audit rows (AFTER triggers do not fire for skipped rows)
--   and no counter change (orders carry explicit display_ids, and
--   orders_assign_display_id() only ever raises the counter). A missing demo
--   row is re-created; a changed demo row is left as it is.
--
-- Locks
--   ROW EXCLUSIVE on every table it inserts into (tenants, store_configs,
--   tenant_settings, tenant_domains, products, orders, order_line_items,
--   users, user_preferences, and through the triggers audit_log and
--   order_display_id_counters), ROW SHARE plus FOR KEY SHARE row locks on
--   the rows its foreign keys reference (tenants, orders, products, users),
--   and the row locks of the rows it inserts or upserts (a store's counter
--   row serialises that store's order inserts), all held until the seed's
--   transaction commits. These table locks conflict only with DDL and other
--   SHARE-or-stronger locks, not with the application's reads and writes.
--
-- Undo
--   Hard-delete the demo tenants (cascades to all their rows, audit included):
--     delete from tenants where id::text like '5eed000_-0000-4000-8000-000000000000';
--   (as a superuser, or per store after set_current_store_id()).
--
-- Changing safely
--   Add rows with new fixed ids and `on conflict ... do nothing`. Orders must
--   keep explicit display_ids and satisfy orders_total_check.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Store 1: Nordic Threads (nordic-threads) — 5eed0001-0000-4000-8000-000000000000
-- -----------------------------------------------------------------------------
select set_current_store_id('5eed0001-0000-4000-8000-000000000000');

insert into tenants (id, subdomain, name, status, subscription_plan, subscription_status, trial_ends_at, metadata)
values ('5eed0001-0000-4000-8000-000000000000', 'nordic-threads', 'Nordic Threads', 'active', 'growth', 'active', null, '{"seed": "demo"}')
on conflict (id) do nothing;

insert into store_configs (id, store_id, config, theme, layout, features)
values ('5eed0001-0001-4000-8000-000000000000', '5eed0001-0000-4000-8000-000000000000',
        '{"tagline": "Slow fashion from the north", "contact_phone": "+46 8 123 456 78"}',
        '{"primary_color": "#1F3A5F", "font": "Inter", "logo_url": "https://cdn.example.com/nordic-threads/logo.svg"}',
        '{"home": ["hero", "featured_collection", "newsletter"]}',
        '{"reviews": true, "gift_cards": true, "wishlist": false}')
on conflict (store_id) do nothing;

insert into tenant_settings (id, store_id, locale, timezone, currency_code, weight_unit, dimension_unit, tax_inclusive_prices, order_id_prefix, support_email)
values ('5eed0001-0002-4000-8000-000000000000', '5eed0001-0000-4000-8000-000000000000', 'sv-SE', 'Europe/Stockholm', 'SEK', 'g', 'cm', true, 'NT-', 'hej@nordicthreads.se')
on conflict (store_id) do nothing;

insert into tenant_domains (id, store_id, domain, is_primary, verification_token, verified_at)
values ('5eed0001-0003-4000-8000-000000000000', '5eed0001-0000-4000-8000-000000000000', 'shop.nordicthreads.se', true, 'seed0001000000000000000000000000', '2024-01-15 09:00:00+00')
on conflict (store_id, id) do nothing;

insert into products (id, store_id, title, handle, status, type, sku, price, compare_at_price, currency_code,
                      inventory_quantity, is_giftcard, requires_shipping, weight, origin_country, tags, published_at)
values
  ('5eed0001-0010-4000-8000-000000000001', '5eed0001-0000-4000-8000-000000000000', 'Merino Crew Sweater', 'merino-crew-sweater', 'published', 'Knitwear', 'NT-MER-001', 109900, 129900, 'SEK', 45, false, true, 380, 'SE', array['merino', 'knitwear', 'winter']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0001-0010-4000-8000-000000000002', '5eed0001-0000-4000-8000-000000000000', 'Linen Overshirt', 'linen-overshirt', 'published', 'Shirts', 'NT-LIN-014', 79900, null, 'SEK', 30, false, true, 290, 'PT', array['linen', 'summer']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0001-0010-4000-8000-000000000003', '5eed0001-0000-4000-8000-000000000000', 'Wool Beanie – Fjäll', 'wool-beanie-fjall', 'published', 'Accessories', 'NT-BEA-007', 29900, null, 'SEK', 120, false, true, 90, 'SE', array['wool', 'accessories']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0001-0010-4000-8000-000000000004', '5eed0001-0000-4000-8000-000000000000', 'Organic Cotton Tee', 'organic-cotton-tee', 'published', 'T-Shirts', 'NT-TEE-101', 34900, 39900, 'SEK', 200, false, true, 180, 'PT', array['organic', 'cotton', 'basics']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0001-0010-4000-8000-000000000005', '5eed0001-0000-4000-8000-000000000000', 'Waxed Canvas Tote', 'waxed-canvas-tote', 'proposed', 'Bags', 'NT-TOT-003', 64900, null, 'SEK', 15, false, true, 650, 'LT', array['bags', 'canvas']::text[], null),
  ('5eed0001-0010-4000-8000-000000000006', '5eed0001-0000-4000-8000-000000000000', 'Down Parka Öresund', 'down-parka-oresund', 'draft', 'Outerwear', 'NT-PAR-022', 349900, null, 'SEK', 0, false, true, 1450, 'SE', array['outerwear', 'winter']::text[], null),
  ('5eed0001-0010-4000-8000-000000000007', '5eed0001-0000-4000-8000-000000000000', 'Gift Card', 'gift-card', 'published', 'Gift Cards', null, 50000, null, 'SEK', 0, true, false, null, null, array['gift']::text[], '2024-06-01 08:00:00+00')
on conflict (store_id, id) do nothing;

insert into orders (id, store_id, display_id, status, payment_status, fulfillment_status,
                    customer_email, customer_name, shipping_first_name, shipping_last_name,
                    shipping_address_1, shipping_city, shipping_postal_code, shipping_country_code,
                    currency_code, tax_inclusive, subtotal, discount_total, shipping_total, tax_total,
                    total, paid_total, refunded_total,
                    locale, placed_at, paid_at, fulfilled_at, canceled_at)
values
  ('5eed0001-0020-4000-8000-000000000001', '5eed0001-0000-4000-8000-000000000000', 1001, 'completed', 'captured', 'fulfilled',
   'maja.nilsson@example.se', 'Maja Nilsson', 'Maja', 'Nilsson', 'Kungsgatan 12', 'Göteborg', '411 04', 'SE',
   'SEK', true, 169700, 0, 4900, 34920, 174600, 174600, 0,
   'sv-SE', '2024-11-02 10:14:00+01', timestamptz '2024-11-02 10:14:00+01' + interval '2 minutes', timestamptz '2024-11-02 10:14:00+01' + interval '2 days', null),
  ('5eed0001-0020-4000-8000-000000000002', '5eed0001-0000-4000-8000-000000000000', 1002, 'pending', 'authorized', 'not_fulfilled',
   'lars.holm@example.dk', 'Lars Holm', 'Lars', 'Holm', 'Købmagergade 7', 'København', '1150', 'DK',
   'SEK', true, 104700, 10470, 9900, 20826, 104130, 0, 0,
   'sv-SE', '2024-11-18 21:40:00+01', null, null, null),
  ('5eed0001-0020-4000-8000-000000000003', '5eed0001-0000-4000-8000-000000000000', 1003, 'canceled', 'refunded', 'canceled',
   'oskar.ek@example.se', 'Oskar Ek', 'Oskar', 'Ek', 'Drottninggatan 3', 'Uppsala', '753 10', 'SE',
   'SEK', true, 79900, 0, 4900, 16960, 84800, 84800, 84800,
   'sv-SE', '2024-12-01 08:05:00+01', timestamptz '2024-12-01 08:05:00+01' + interval '2 minutes', null, timestamptz '2024-12-01 08:05:00+01' + interval '1 day')
on conflict (store_id, id) do nothing;

insert into order_line_items (id, store_id, order_id, product_id, title, sku, quantity, unit_price, currency_code)
values
  ('5eed0001-0021-4000-8000-000000000001', '5eed0001-0000-4000-8000-000000000000', '5eed0001-0020-4000-8000-000000000001', '5eed0001-0010-4000-8000-000000000001', 'Merino Crew Sweater', 'NT-MER-001', 1, 109900, 'SEK'),
  ('5eed0001-0021-4000-8000-000000000002', '5eed0001-0000-4000-8000-000000000000', '5eed0001-0020-4000-8000-000000000001', '5eed0001-0010-4000-8000-000000000003', 'Wool Beanie – Fjäll', 'NT-BEA-007', 2, 29900, 'SEK'),
  ('5eed0001-0021-4000-8000-000000000003', '5eed0001-0000-4000-8000-000000000000', '5eed0001-0020-4000-8000-000000000002', '5eed0001-0010-4000-8000-000000000004', 'Organic Cotton Tee', 'NT-TEE-101', 3, 34900, 'SEK'),
  ('5eed0001-0021-4000-8000-000000000004', '5eed0001-0000-4000-8000-000000000000', '5eed0001-0020-4000-8000-000000000003', '5eed0001-0010-4000-8000-000000000002', 'Linen Overshirt', 'NT-LIN-014', 1, 79900, 'SEK')
on conflict (store_id, id) do nothing;

insert into users (id, store_id, email, display_name, role)
values
  ('5eed0001-0030-4000-8000-000000000001', '5eed0001-0000-4000-8000-000000000000', 'astrid@nordicthreads.se', 'Astrid Lindqvist', 'owner'),
  ('5eed0001-0030-4000-8000-000000000002', '5eed0001-0000-4000-8000-000000000000', 'erik@nordicthreads.se', 'Erik Berg', 'staff')
on conflict (store_id, id) do nothing;

insert into user_preferences (id, store_id, user_id, theme)
values
  ('5eed0001-0031-4000-8000-000000000001', '5eed0001-0000-4000-8000-000000000000', '5eed0001-0030-4000-8000-000000000001', 'system'),
  ('5eed0001-0031-4000-8000-000000000002', '5eed0001-0000-4000-8000-000000000000', '5eed0001-0030-4000-8000-000000000002', 'dark')
on conflict (store_id, id) do nothing;

-- -----------------------------------------------------------------------------
-- Store 2: Brew Bros Coffee Roasters (brew-bros-coffee) — 5eed0002-0000-4000-8000-000000000000
-- -----------------------------------------------------------------------------
select set_current_store_id('5eed0002-0000-4000-8000-000000000000');

insert into tenants (id, subdomain, name, status, subscription_plan, subscription_status, trial_ends_at, metadata)
values ('5eed0002-0000-4000-8000-000000000000', 'brew-bros-coffee', 'Brew Bros Coffee Roasters', 'active', 'starter', 'trialing', '2026-03-01 00:00:00+00', '{"seed": "demo"}')
on conflict (id) do nothing;

insert into store_configs (id, store_id, config, theme, layout, features)
values ('5eed0002-0001-4000-8000-000000000000', '5eed0002-0000-4000-8000-000000000000',
        '{"tagline": "Small-batch roasted in Austin, TX", "free_shipping_threshold": 5000}',
        '{"primary_color": "#6F4E37", "font": "Work Sans"}',
        '{"home": ["hero", "subscriptions", "best_sellers"]}',
        '{"subscriptions": true, "reviews": true}')
on conflict (store_id) do nothing;

insert into tenant_settings (id, store_id, locale, timezone, currency_code, weight_unit, dimension_unit, tax_inclusive_prices, order_id_prefix, support_email)
values ('5eed0002-0002-4000-8000-000000000000', '5eed0002-0000-4000-8000-000000000000', 'en-US', 'America/Chicago', 'USD', 'oz', 'in', false, '#', 'hello@brewbros.coffee')
on conflict (store_id) do nothing;

insert into tenant_domains (id, store_id, domain, is_primary, verification_token, verified_at)
values ('5eed0002-0003-4000-8000-000000000000', '5eed0002-0000-4000-8000-000000000000', 'www.brewbros.coffee', true, 'seed0002000000000000000000000000', '2024-01-15 09:00:00+00')
on conflict (store_id, id) do nothing;

insert into products (id, store_id, title, handle, status, type, sku, price, compare_at_price, currency_code,
                      inventory_quantity, is_giftcard, requires_shipping, weight, origin_country, tags, published_at)
values
  ('5eed0002-0010-4000-8000-000000000001', '5eed0002-0000-4000-8000-000000000000', 'Ethiopia Yirgacheffe – Light Roast', 'ethiopia-yirgacheffe-light-roast', 'published', 'Coffee Beans', 'BB-ETH-12', 1899, null, 'USD', 340, false, true, 12, 'ET', array['single-origin', 'light-roast']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0002-0010-4000-8000-000000000002', '5eed0002-0000-4000-8000-000000000000', 'Colombia Huila – Medium Roast', 'colombia-huila-medium-roast', 'published', 'Coffee Beans', 'BB-COL-12', 1699, null, 'USD', 410, false, true, 12, 'CO', array['single-origin', 'medium-roast']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0002-0010-4000-8000-000000000003', '5eed0002-0000-4000-8000-000000000000', 'House Espresso Blend', 'house-espresso-blend', 'published', 'Coffee Beans', 'BB-ESP-32', 3999, 4499, 'USD', 95, false, true, 32, 'US', array['blend', 'espresso', 'bulk']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0002-0010-4000-8000-000000000004', '5eed0002-0000-4000-8000-000000000000', 'Decaf Swiss Water', 'decaf-swiss-water', 'published', 'Coffee Beans', 'BB-DEC-12', 1799, null, 'USD', 60, false, true, 12, 'MX', array['decaf']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0002-0010-4000-8000-000000000005', '5eed0002-0000-4000-8000-000000000000', 'Pour-Over Kettle', 'pour-over-kettle', 'published', 'Equipment', 'BB-KET-01', 5900, null, 'USD', 25, false, true, 30, 'CN', array['equipment', 'brewing']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0002-0010-4000-8000-000000000006', '5eed0002-0000-4000-8000-000000000000', 'Ceramic Dripper', 'ceramic-dripper', 'draft', 'Equipment', 'BB-DRP-02', 2800, null, 'USD', 40, false, true, 14, 'JP', array['equipment', 'brewing']::text[], null)
on conflict (store_id, id) do nothing;

insert into orders (id, store_id, display_id, status, payment_status, fulfillment_status,
                    customer_email, customer_name, shipping_first_name, shipping_last_name,
                    shipping_address_1, shipping_city, shipping_postal_code, shipping_country_code,
                    currency_code, tax_inclusive, subtotal, discount_total, shipping_total, tax_total,
                    total, paid_total, refunded_total,
                    locale, placed_at, paid_at, fulfilled_at, canceled_at)
values
  ('5eed0002-0020-4000-8000-000000000001', '5eed0002-0000-4000-8000-000000000000', 1, 'completed', 'captured', 'shipped',
   'jenny.chen@example.com', 'Jenny Chen', 'Jenny', 'Chen', '1020 SW Taylor St', 'Portland', '97205', 'US',
   'USD', false, 9698, 0, 895, 800, 11393, 11393, 0,
   'en-US', '2024-10-21 15:32:00-05', timestamptz '2024-10-21 15:32:00-05' + interval '2 minutes', timestamptz '2024-10-21 15:32:00-05' + interval '2 days', null),
  ('5eed0002-0020-4000-8000-000000000002', '5eed0002-0000-4000-8000-000000000000', 2, 'pending', 'awaiting', 'not_fulfilled',
   'mike.o@example.com', 'Mike OBrien', 'Mike', 'OBrien', '1701 Wynkoop St', 'Denver', '80202', 'US',
   'USD', false, 3999, 400, 0, 297, 3896, 0, 0,
   'en-US', '2024-10-29 09:12:00-05', null, null, null)
on conflict (store_id, id) do nothing;

insert into order_line_items (id, store_id, order_id, product_id, title, sku, quantity, unit_price, currency_code)
values
  ('5eed0002-0021-4000-8000-000000000001', '5eed0002-0000-4000-8000-000000000000', '5eed0002-0020-4000-8000-000000000001', '5eed0002-0010-4000-8000-000000000001', 'Ethiopia Yirgacheffe – Light Roast', 'BB-ETH-12', 2, 1899, 'USD'),
  ('5eed0002-0021-4000-8000-000000000002', '5eed0002-0000-4000-8000-000000000000', '5eed0002-0020-4000-8000-000000000001', '5eed0002-0010-4000-8000-000000000005', 'Pour-Over Kettle', 'BB-KET-01', 1, 5900, 'USD'),
  ('5eed0002-0021-4000-8000-000000000003', '5eed0002-0000-4000-8000-000000000000', '5eed0002-0020-4000-8000-000000000002', '5eed0002-0010-4000-8000-000000000003', 'House Espresso Blend', 'BB-ESP-32', 1, 3999, 'USD')
on conflict (store_id, id) do nothing;

insert into users (id, store_id, email, display_name, role)
values
  ('5eed0002-0030-4000-8000-000000000001', '5eed0002-0000-4000-8000-000000000000', 'marcus@brewbros.coffee', 'Marcus Reyes', 'owner'),
  ('5eed0002-0030-4000-8000-000000000002', '5eed0002-0000-4000-8000-000000000000', 'dana@brewbros.coffee', 'Dana Whitfield', 'admin'),
  ('5eed0002-0030-4000-8000-000000000003', '5eed0002-0000-4000-8000-000000000000', 'sam@brewbros.coffee', 'Sam Okafor', 'viewer')
on conflict (store_id, id) do nothing;

insert into user_preferences (id, store_id, user_id, theme)
values
  ('5eed0002-0031-4000-8000-000000000001', '5eed0002-0000-4000-8000-000000000000', '5eed0002-0030-4000-8000-000000000001', 'system'),
  ('5eed0002-0031-4000-8000-000000000002', '5eed0002-0000-4000-8000-000000000000', '5eed0002-0030-4000-8000-000000000002', 'dark'),
  ('5eed0002-0031-4000-8000-000000000003', '5eed0002-0000-4000-8000-000000000000', '5eed0002-0030-4000-8000-000000000003', 'system')
on conflict (store_id, id) do nothing;

-- -----------------------------------------------------------------------------
-- Store 3: Atelier Céramique (atelier-ceramique) — 5eed0003-0000-4000-8000-000000000000
-- -----------------------------------------------------------------------------
select set_current_store_id('5eed0003-0000-4000-8000-000000000000');

insert into tenants (id, subdomain, name, status, subscription_plan, subscription_status, trial_ends_at, metadata)
values ('5eed0003-0000-4000-8000-000000000000', 'atelier-ceramique', 'Atelier Céramique', 'active', 'free', 'active', null, '{"seed": "demo"}')
on conflict (id) do nothing;

insert into store_configs (id, store_id, config, theme, layout, features)
values ('5eed0003-0001-4000-8000-000000000000', '5eed0003-0000-4000-8000-000000000000',
        '{"tagline": "Céramiques tournées à la main à Lyon"}',
        '{"primary_color": "#C46A4A", "font": "Cormorant Garamond"}',
        '{"home": ["hero", "collections", "atelier_story"]}',
        '{"reviews": false, "click_and_collect": true}')
on conflict (store_id) do nothing;

insert into tenant_settings (id, store_id, locale, timezone, currency_code, weight_unit, dimension_unit, tax_inclusive_prices, order_id_prefix, support_email)
values ('5eed0003-0002-4000-8000-000000000000', '5eed0003-0000-4000-8000-000000000000', 'fr-FR', 'Europe/Paris', 'EUR', 'kg', 'cm', true, 'AC-', 'bonjour@atelier-ceramique.fr')
on conflict (store_id) do nothing;

insert into tenant_domains (id, store_id, domain, is_primary, verification_token, verified_at)
values ('5eed0003-0003-4000-8000-000000000000', '5eed0003-0000-4000-8000-000000000000', 'atelier-ceramique.fr', true, 'seed0003000000000000000000000000', '2024-01-15 09:00:00+00')
on conflict (store_id, id) do nothing;

insert into products (id, store_id, title, handle, status, type, sku, price, compare_at_price, currency_code,
                      inventory_quantity, is_giftcard, requires_shipping, weight, origin_country, tags, published_at)
values
  ('5eed0003-0010-4000-8000-000000000001', '5eed0003-0000-4000-8000-000000000000', 'Bol à Café Émaillé', 'bol-a-cafe-emaille', 'published', 'Bols', 'AC-BOL-01', 3200, null, 'EUR', 24, false, true, 0.35, 'FR', array['grès', 'fait-main']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0003-0010-4000-8000-000000000002', '5eed0003-0000-4000-8000-000000000000', 'Assiette Plate Sable', 'assiette-plate-sable', 'published', 'Assiettes', 'AC-ASS-04', 2800, null, 'EUR', 36, false, true, 0.6, 'FR', array['grès', 'table']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0003-0010-4000-8000-000000000003', '5eed0003-0000-4000-8000-000000000000', 'Vase Soliflore Terracotta', 'vase-soliflore-terracotta', 'published', 'Vases', 'AC-VAS-09', 4500, 5200, 'EUR', 8, false, true, 0.4, 'FR', array['terre-cuite', 'déco']::text[], '2024-06-01 08:00:00+00'),
  ('5eed0003-0010-4000-8000-000000000004', '5eed0003-0000-4000-8000-000000000000', 'Théière Céladon', 'theiere-celadon', 'proposed', 'Théières', 'AC-THE-02', 8900, null, 'EUR', 3, false, true, 0.9, 'FR', array['porcelaine', 'thé']::text[], null),
  ('5eed0003-0010-4000-8000-000000000005', '5eed0003-0000-4000-8000-000000000000', 'Tasse Expresso Noire', 'tasse-expresso-noire', 'published', 'Tasses', 'AC-TAS-11', 1800, null, 'EUR', 60, false, true, 0.12, 'FR', array['grès', 'café']::text[], '2024-06-01 08:00:00+00')
on conflict (store_id, id) do nothing;

insert into orders (id, store_id, display_id, status, payment_status, fulfillment_status,
                    customer_email, customer_name, shipping_first_name, shipping_last_name,
                    shipping_address_1, shipping_city, shipping_postal_code, shipping_country_code,
                    currency_code, tax_inclusive, subtotal, discount_total, shipping_total, tax_total,
                    total, paid_total, refunded_total,
                    locale, placed_at, paid_at, fulfilled_at, canceled_at)
values
  ('5eed0003-0020-4000-8000-000000000001', '5eed0003-0000-4000-8000-000000000000', 1, 'completed', 'captured', 'fulfilled',
   'hugo.martin@example.fr', 'Hugo Martin', 'Hugo', 'Martin', '12 rue Mercière', 'Lyon', '69002', 'FR',
   'EUR', true, 13600, 0, 690, 2382, 14290, 14290, 0,
   'fr-FR', '2024-09-14 11:20:00+02', timestamptz '2024-09-14 11:20:00+02' + interval '2 minutes', timestamptz '2024-09-14 11:20:00+02' + interval '2 days', null),
  ('5eed0003-0020-4000-8000-000000000002', '5eed0003-0000-4000-8000-000000000000', 2, 'confirmed', 'captured', 'partially_fulfilled',
   'lea.bernard@example.fr', 'Léa Bernard', 'Léa', 'Bernard', '5 place de la Bourse', 'Bordeaux', '33000', 'FR',
   'EUR', true, 21300, 1500, 990, 3465, 20790, 20790, 0,
   'fr-FR', '2024-12-03 17:45:00+01', timestamptz '2024-12-03 17:45:00+01' + interval '2 minutes', null, null)
on conflict (store_id, id) do nothing;

insert into order_line_items (id, store_id, order_id, product_id, title, sku, quantity, unit_price, currency_code)
values
  ('5eed0003-0021-4000-8000-000000000001', '5eed0003-0000-4000-8000-000000000000', '5eed0003-0020-4000-8000-000000000001', '5eed0003-0010-4000-8000-000000000001', 'Bol à Café Émaillé', 'AC-BOL-01', 2, 3200, 'EUR'),
  ('5eed0003-0021-4000-8000-000000000002', '5eed0003-0000-4000-8000-000000000000', '5eed0003-0020-4000-8000-000000000001', '5eed0003-0010-4000-8000-000000000005', 'Tasse Expresso Noire', 'AC-TAS-11', 4, 1800, 'EUR'),
  ('5eed0003-0021-4000-8000-000000000003', '5eed0003-0000-4000-8000-000000000000', '5eed0003-0020-4000-8000-000000000002', '5eed0003-0010-4000-8000-000000000002', 'Assiette Plate Sable', 'AC-ASS-04', 6, 2800, 'EUR'),
  ('5eed0003-0021-4000-8000-000000000004', '5eed0003-0000-4000-8000-000000000000', '5eed0003-0020-4000-8000-000000000002', '5eed0003-0010-4000-8000-000000000003', 'Vase Soliflore Terracotta', 'AC-VAS-09', 1, 4500, 'EUR')
on conflict (store_id, id) do nothing;

insert into users (id, store_id, email, display_name, role)
values
  ('5eed0003-0030-4000-8000-000000000001', '5eed0003-0000-4000-8000-000000000000', 'claire@atelier-ceramique.fr', 'Claire Dubois', 'owner')
on conflict (store_id, id) do nothing;

insert into user_preferences (id, store_id, user_id, theme)
values
  ('5eed0003-0031-4000-8000-000000000001', '5eed0003-0000-4000-8000-000000000000', '5eed0003-0030-4000-8000-000000000001', 'system')
on conflict (store_id, id) do nothing;
