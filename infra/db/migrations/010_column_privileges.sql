-- =============================================================================
-- migrations/010_column_privileges.sql — the app writes what the store owns, not what the platform owns
-- =============================================================================
-- Purpose
--   Issue 16, point 4. Within its own store storedb_app could set
--   subscription_plan = 'enterprise', reset the order number counter, rewrite
--   order numbers, and hard-delete orders (their line items cascading).
--   * tenants: UPDATE only on name and metadata. Plan, billing state, trial,
--     status, subdomain and deleted_at belong to the platform (create_tenant,
--     soft_delete_tenant, restore_tenant, the billing system as the owner).
--   * order_display_id_counters: SELECT only. orders_assign_display_id()
--     becomes SECURITY DEFINER (storedb_definer) and is the only writer; a
--     counter can never go down (trigger order_display_id_counters_guard).
--     It also fills orders.currency_code from the store's settings when
--     the insert leaves it NULL (point 6).
--   * orders: no DELETE (soft delete: deleted_at), and UPDATE on every column
--     but id, store_id, display_id and created_at.
--   * order_line_items: no DELETE: financial rows stay; an order is
--     soft-deleted or canceled instead.
--   * tenant_domains (with 008): several stores may claim the same unverified
--     hostname, so a claim never fails because of another store.
--     verify_tenant_domain(domain, store_id) verifies one store's claim;
--     the one-argument form still works when only one store claims the name.
--
-- Changes
--   privileges: tenants, order_display_id_counters, orders, order_line_items
--               (storedb_app); order_display_id_counters, tenant_settings
--               (storedb_definer)
--   functions : orders_assign_display_id() (SECURITY DEFINER now),
--               verify_tenant_domain(text) (replaced)
--   creates   : verify_tenant_domain(text, uuid),
--               order_display_id_counters_guard() + its trigger
--
-- Depends on
--   002, 003, 006 (verify_tenant_domain, column privileges of tenant_domains),
--   008 (tenant_domains_domain_verified_key).
--
-- Locks
--   One existing table is locked: order_display_id_counters, SHARE ROW
--   EXCLUSIVE for CREATE TRIGGER, until commit (order inserts that need a new
--   number wait; reads do not). It is the only statement that waits for a
--   lock. GRANT/REVOKE change ACLs in the catalog without a table lock;
--   CREATE OR REPLACE FUNCTION takes none.
--
-- Undo
--   Never edit this file once applied. A later migration can grant the
--   privileges back (`grant update on tenants to storedb_app`, ...) and drop
--   the guard trigger; do not give the counter back to the app.
--
-- Changing safely
--   * A new column on tenants or orders is NOT writable by the app until a
--     migration grants `update (<column>)`: decide who owns it.
--   * Every privilege granted to storedb_app is in the grant list
--     (storedb/tenancy/_grants.py and infra/db/README.md).
-- =============================================================================

lock table order_display_id_counters in share row exclusive mode;


-- -----------------------------------------------------------------------------
-- tenants: the store may rename itself and keep integration metadata
-- -----------------------------------------------------------------------------
-- Safe: replaces table-wide UPDATE by UPDATE on two columns.
revoke update on table tenants from storedb_app;
grant update (name, metadata) on table tenants to storedb_app;


-- -----------------------------------------------------------------------------
-- orders and line items: no hard delete, no renumbering
-- -----------------------------------------------------------------------------
-- Safe: the app keeps select/insert; deletes become soft deletes (orders) or
-- cancellations; platform jobs run as the owner.
revoke delete on table orders, order_line_items from storedb_app;
revoke update on table orders from storedb_app;
grant update (
  status, payment_status, fulfillment_status,
  customer_id, customer_email, customer_name, customer_phone,
  billing_first_name, billing_last_name, billing_company, billing_address_1,
  billing_address_2, billing_city, billing_province, billing_postal_code,
  billing_country_code, billing_phone,
  shipping_first_name, shipping_last_name, shipping_company, shipping_address_1,
  shipping_address_2, shipping_city, shipping_province, shipping_postal_code,
  shipping_country_code, shipping_phone,
  currency_code, tax_inclusive, subtotal, discount_total, shipping_total, tax_total,
  gift_card_total, total, paid_total, refunded_total,
  idempotency_key, cart_id, external_id, sales_channel, locale,
  placed_at, paid_at, fulfilled_at, shipped_at, canceled_at,
  notes, metadata, deleted_at
) on table orders to storedb_app;


-- -----------------------------------------------------------------------------
-- order_display_id_counters: written only by orders_assign_display_id()
-- -----------------------------------------------------------------------------
-- Safe: the counter is derived data the trigger function maintains.
revoke insert, update on table order_display_id_counters from storedb_app;
grant select, insert, update on table order_display_id_counters to storedb_definer;
grant select on table tenant_settings to storedb_definer;

-- display_id NULL  -> next number of the store (upsert on the counter row).
-- display_id given -> the counter is raised to at least that value.
-- currency_code NULL -> the store's tenant_settings.currency_code.
-- Runs as storedb_definer (BYPASSRLS): it acts on NEW.store_id only, and only
-- when that is the session's store (or no store is set: the owner's imports);
-- RLS still checks the order row itself after this BEFORE trigger.
create or replace function orders_assign_display_id()
  returns trigger
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_scope uuid := public.get_current_store_id();
begin
  if v_scope is not null and v_scope is distinct from new.store_id then
    raise exception using
      errcode = 'insufficient_privilege',
      message = 'new row violates row-level security policy for table "orders"';
  end if;

  if new.display_id is null then
    insert into public.order_display_id_counters as c (store_id, last_display_id)
    values (new.store_id, 1)
    on conflict (store_id) do update
      set last_display_id = c.last_display_id + 1
    returning c.last_display_id into new.display_id;
  else
    insert into public.order_display_id_counters as c (store_id, last_display_id)
    values (new.store_id, new.display_id)
    on conflict (store_id) do update
      set last_display_id = greatest(c.last_display_id, excluded.last_display_id)
      where c.last_display_id < excluded.last_display_id;
  end if;

  if new.currency_code is null then
    select s.currency_code
      into new.currency_code
      from public.tenant_settings s
     where s.store_id = new.store_id;
  end if;
  return new;
end;
$$;

comment on function orders_assign_display_id() is
  'BEFORE INSERT on orders: assigns display_id from order_display_id_counters (or raises the '
  'counter to an explicit display_id) and defaults currency_code to the store''s. SECURITY '
  'DEFINER (storedb_definer): the only writer of the counters.';

create function order_display_id_counters_guard()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  raise exception using
    errcode    = 'check_violation',
    constraint = 'order_display_id_counters_last_display_id_check',
    table      = 'order_display_id_counters',
    message    = format('the order number counter of store %s cannot go down (%s -> %s)',
                        new.store_id, old.last_display_id, new.last_display_id),
    hint       = 'order numbers are never reused';
end;
$$;

comment on function order_display_id_counters_guard() is
  'BEFORE UPDATE on order_display_id_counters when the counter would go down: raises.';
revoke all on function order_display_id_counters_guard() from public;

create trigger order_display_id_counters_guard
  before update on order_display_id_counters
  for each row when (new.last_display_id < old.last_display_id)
  execute function order_display_id_counters_guard();


-- -----------------------------------------------------------------------------
-- verify_tenant_domain(): one store's claim
-- -----------------------------------------------------------------------------
create or replace function verify_tenant_domain(p_domain text, p_store_id uuid)
  returns uuid
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_domain   text := lower(btrim(p_domain));
  v_store_id uuid;
begin
  if p_store_id is null
     and (select count(*) from public.tenant_domains d where d.domain = v_domain) > 1 then
    raise exception using
      errcode = 'cardinality_violation',
      message = format('domain "%s" is claimed by several stores', v_domain),
      hint    = 'call verify_tenant_domain(domain, store_id) for the store whose DNS token matched';
  end if;
  update public.tenant_domains d
     set verified_at = coalesce(d.verified_at, now())
   where d.domain = v_domain
     and (p_store_id is null or d.store_id = p_store_id)
  returning d.store_id into v_store_id;
  if not found then
    raise exception using
      errcode = 'no_data_found',
      message = format('domain "%s" not found', p_domain);
  end if;
  return v_store_id;
end;
$$;

comment on function verify_tenant_domain(text, uuid) is
  'Platform only: marks store p_store_id''s claim of a custom domain verified (after its DNS TXT '
  'record was checked); returns the store. A hostname verified for another store gives '
  'unique_violation tenant_domains_domain_verified_key. SECURITY DEFINER (storedb_definer).';

create or replace function verify_tenant_domain(p_domain text)
  returns uuid
  language sql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
  select public.verify_tenant_domain(p_domain, null::uuid);
$$;

comment on function verify_tenant_domain(text) is
  'Platform only: verify_tenant_domain(p_domain, NULL): the only store claiming the domain. '
  'SECURITY DEFINER (storedb_definer); not granted to storedb_app.';

do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not has_schema_privilege('storedb_definer', 'public', 'create') then
    grant create on schema public to storedb_definer;
    perform set_config('storedb.revoke_definer_create', 'on', true);
  end if;
end;
$$;

alter function verify_tenant_domain(text, uuid) owner to storedb_definer;
alter function orders_assign_display_id() owner to storedb_definer;

do $$
begin
  if current_setting('storedb.revoke_definer_create', true) = 'on' then
    revoke create on schema public from storedb_definer;
  end if;
end;
$$;

revoke all on function verify_tenant_domain(text, uuid) from public;
