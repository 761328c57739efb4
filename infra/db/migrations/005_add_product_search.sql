-- =============================================================================
-- migrations/005_add_product_search.sql — title search that uses its index under RLS
-- =============================================================================
-- Purpose
--   Let the application search its products by title through the trigram
--   index products_title_trgm_idx. Queried directly by a role under row level
--   security, `title ilike '%x%'` cannot use that index: ILIKE and the pg_trgm
--   operators are not LEAKPROOF, so PostgreSQL applies the store policy first
--   and filters every row of the store. This function runs as storedb_definer
--   (BYPASSRLS) and applies the store itself, with the same rule as the
--   policy: store_id = get_current_store_id(). With no store set it returns
--   nothing, exactly like the policy.
--
-- Creates
--   function search_products(p_query text, p_limit integer default 50)
--            returns setof products — SECURITY DEFINER, search_path pinned,
--            owned by storedb_definer, executable by storedb_app only.
--
-- Depends on
--   001 (products, products_title_trgm_idx), 003 (roles storedb_definer and
--   storedb_app, get_current_store_id() as the isolation rule).
--
-- Locks
--   None on table data: creating a function takes no table lock, and the grant
--   of SELECT on products to storedb_definer only updates the table's ACL in
--   the catalog (reads and writes of products continue). A non-superuser run
--   grants storedb_definer CREATE on schema public for this transaction only
--   (needed to hand it the function) and revokes it before commit.
--
-- Undo
--   A new migration: `drop function search_products(text, integer);` (and
--   `revoke select on products from storedb_definer;` if nothing else needs it).
--
-- Changing safely
--   The store filter is what keeps stores apart here: never remove it, and
--   keep the function SECURITY DEFINER with its search_path pinned (the
--   tenancy audit checks the latter). `create or replace` keeps owner and
--   grants; re-state them anyway when changing the signature.
-- =============================================================================

-- PL/pgSQL rather than SQL: a SECURITY DEFINER function is never inlined, and
-- PL/pgSQL keeps the query's plan between calls instead of planning it anew.
create function search_products(p_query text, p_limit integer default 50)
  returns setof products
  language plpgsql
  stable
  security definer
  set search_path = pg_catalog, public
as $$
begin
  return query
    select p.*
    from products p
    where p.store_id = get_current_store_id()        -- the RLS rule, applied here
      and p.deleted_at is null
      -- the query is a literal substring: escape ILIKE's wildcards and escape char
      and p.title ilike '%' || replace(replace(replace(coalesce(p_query, ''),
                       '\', '\\'), '%', '\%'), '_', '\_') || '%'
    order by similarity(p.title, p_query) desc, p.created_at desc, p.id
    limit greatest(1, least(coalesce(p_limit, 50), 500));
end;
$$;

comment on function search_products(text, integer) is
  'Live products of the current store whose title contains p_query (case-insensitive), '
  'best trigram match first, at most p_limit (1-500). SECURITY DEFINER so the trigram '
  'index can be used; applies store_id = get_current_store_id() itself.';

-- Handing the function to storedb_definer needs that role to have CREATE on the
-- schema (superusers are exempt): granted for this transaction only, as in 003.
do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not has_schema_privilege('storedb_definer', 'public', 'create') then
    grant create on schema public to storedb_definer;
    perform set_config('storedb.revoke_definer_create', 'on', true);
  end if;
end;
$$;

alter function search_products(text, integer) owner to storedb_definer;
revoke all on function search_products(text, integer) from public;
grant execute on function search_products(text, integer) to storedb_app;

do $$
begin
  if current_setting('storedb.revoke_definer_create', true) = 'on' then
    revoke create on schema public from storedb_definer;
  end if;
end;
$$;

-- the function reads products as its owner
grant select on products to storedb_definer;
