-- =============================================================================
-- migrations/012_status_lists.sql — "orders with status X, newest first" through their indexes under RLS
-- =============================================================================
-- Purpose
--   Issue 16, point 8. 008 gave the status lists composite indexes
--   (store_id, <status>, placed_at desc). For storedb_app, though, RLS lets a
--   condition become an index condition only if its operator is LEAKPROOF,
--   and enum equality (enum_eq) is not: `status = 'canceled'` is filtered
--   row by row after a scan of the store's orders by placed_at. These
--   functions run as storedb_definer (no RLS), apply the store rule
--   themselves (store_id = get_current_store_id(), exactly like the
--   policies: no store set, no rows; a soft-deleted store, no rows) and so
--   use the composite indexes. Keyset paging: pass the placed_at of the last
--   row to get the next page.
--
-- Creates
--   functions : orders_by_status(order_status, integer, timestamptz),
--               orders_by_payment_status(payment_status, integer, timestamptz),
--               orders_by_fulfillment_status(fulfillment_status, integer, timestamptz),
--               products_by_status(product_status, integer, timestamptz)
--               SECURITY DEFINER (storedb_definer), executable by storedb_app.
--
-- Depends on
--   002, 003, 006 (definer rules), 008 (the indexes), 011 (current_store_is_live()).
--
-- Locks
--   None on table data: creating functions takes no table lock; the grants
--   to storedb_definer only change ACLs in the catalog.
--
-- Undo
--   A new migration dropping the four functions.
--
-- Changing safely
--   Keep the store filter and the live-store test: they are what keeps
--   stores apart here. A new list: same pattern (005's search_products()).
-- =============================================================================

create function orders_by_status(p_status order_status, p_limit integer default 50,
                                 p_before timestamptz default 'infinity')
  returns setof orders
  language plpgsql
  stable
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  if not public.current_store_is_live() then
    return;
  end if;
  return query
    select o.* from public.orders o
     where o.store_id = public.get_current_store_id()        -- the RLS rule, applied here
       and o.status = p_status and o.deleted_at is null and o.placed_at < p_before
     order by o.placed_at desc
     limit greatest(1, least(coalesce(p_limit, 50), 500));
end;
$$;

create function orders_by_payment_status(p_status payment_status, p_limit integer default 50,
                                         p_before timestamptz default 'infinity')
  returns setof orders
  language plpgsql
  stable
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  if not public.current_store_is_live() then
    return;
  end if;
  return query
    select o.* from public.orders o
     where o.store_id = public.get_current_store_id()
       and o.payment_status = p_status and o.deleted_at is null and o.placed_at < p_before
     order by o.placed_at desc
     limit greatest(1, least(coalesce(p_limit, 50), 500));
end;
$$;

create function orders_by_fulfillment_status(p_status fulfillment_status,
                                             p_limit integer default 50,
                                             p_before timestamptz default 'infinity')
  returns setof orders
  language plpgsql
  stable
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  if not public.current_store_is_live() then
    return;
  end if;
  return query
    select o.* from public.orders o
     where o.store_id = public.get_current_store_id()
       and o.fulfillment_status = p_status and o.deleted_at is null and o.placed_at < p_before
     order by o.placed_at desc
     limit greatest(1, least(coalesce(p_limit, 50), 500));
end;
$$;

create function products_by_status(p_status product_status, p_limit integer default 50,
                                   p_before timestamptz default 'infinity')
  returns setof products
  language plpgsql
  stable
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  if not public.current_store_is_live() then
    return;
  end if;
  return query
    select p.* from public.products p
     where p.store_id = public.get_current_store_id()
       and p.status = p_status and p.deleted_at is null and p.created_at < p_before
     order by p.created_at desc
     limit greatest(1, least(coalesce(p_limit, 50), 500));
end;
$$;

comment on function orders_by_status(order_status, integer, timestamptz) is
  'Live orders of the current store with this status, newest placed_at first, before p_before '
  '(keyset paging), at most p_limit (1-500). SECURITY DEFINER so orders_store_id_status_placed_at_idx '
  'is used under RLS; applies store_id = get_current_store_id() itself.';
comment on function orders_by_payment_status(payment_status, integer, timestamptz) is
  'As orders_by_status(), by payment_status (orders_store_id_payment_status_placed_at_idx).';
comment on function orders_by_fulfillment_status(fulfillment_status, integer, timestamptz) is
  'As orders_by_status(), by fulfillment_status (orders_store_id_fulfillment_status_placed_at_idx).';
comment on function products_by_status(product_status, integer, timestamptz) is
  'Live products of the current store with this status, newest created_at first '
  '(products_store_id_status_created_at_idx). SECURITY DEFINER; applies the store rule itself.';

do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not has_schema_privilege('storedb_definer', 'public', 'create') then
    grant create on schema public to storedb_definer;
    perform set_config('storedb.revoke_definer_create', 'on', true);
  end if;
end;
$$;

alter function orders_by_status(order_status, integer, timestamptz) owner to storedb_definer;
alter function orders_by_payment_status(payment_status, integer, timestamptz)
  owner to storedb_definer;
alter function orders_by_fulfillment_status(fulfillment_status, integer, timestamptz)
  owner to storedb_definer;
alter function products_by_status(product_status, integer, timestamptz) owner to storedb_definer;

do $$
begin
  if current_setting('storedb.revoke_definer_create', true) = 'on' then
    revoke create on schema public from storedb_definer;
  end if;
end;
$$;

revoke all on function orders_by_status(order_status, integer, timestamptz),
                       orders_by_payment_status(payment_status, integer, timestamptz),
                       orders_by_fulfillment_status(fulfillment_status, integer, timestamptz),
                       products_by_status(product_status, integer, timestamptz)
  from public;
grant execute on function orders_by_status(order_status, integer, timestamptz),
                          orders_by_payment_status(payment_status, integer, timestamptz),
                          orders_by_fulfillment_status(fulfillment_status, integer, timestamptz),
                          products_by_status(product_status, integer, timestamptz)
  to storedb_app;
-- what they read as their owner (orders: granted by 009)
grant execute on function current_store_is_live() to storedb_definer;
