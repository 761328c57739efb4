-- =============================================================================
-- migrations/009_audit_partitioning.sql — audit_log by month, retention, erasure, tenant deletions
-- =============================================================================
-- Purpose
--   Issue 16, point 3: the audit log grew without limit, could not forget a
--   customer, and a tenant's hard delete took its whole history with it and
--   left no trace of itself.
--   * audit_log becomes a table partitioned by month on `at`. The rows written
--     so far become its first partition, audit_log_p_legacy (from MINVALUE to
--     the first day of next month); one partition per month follows
--     (audit_log_pYYYYMM), and audit_log_p_default catches a month nobody
--     created (it should stay empty: see the README's monitoring queries).
--     Primary key (store_id, at, id), which also serves "a store's history
--     by time" (the old audit_log_store_id_at_idx is dropped).
--   * audit_log no longer references tenants: the history outlives a hard
--     delete of its tenant and leaves with its partition (retention) or with
--     offboarding (014). Marked `storedb:no-tenant-fk` for check --tenancy.
--     It also saves a foreign-key check per audited write.
--   * audit_log_create_partitions(months_ahead) creates the coming months
--     (run it monthly, e.g. from cron; this file creates 3 months ahead);
--     audit_log_drop_partitions(keep) drops whole partitions older than the
--     retention period (default 13 months): no DELETE, no bloat, no vacuum.
--   * erase_customer_pii(email): the store's customer erasure ("right to be
--     forgotten"): blanks the customer's personal columns on the store's
--     orders and removes those columns from every audit row of those orders.
--   * tenant_deletions: a platform-level record of each tenant's hard
--     delete (no foreign key, not a tenant table, not visible to the app),
--     written by the AFTER DELETE trigger tenants_record_deletion.
--
-- Creates
--   tables    : audit_log (partitioned; the old table is renamed to
--               audit_log_p_legacy and attached), audit_log_pYYYYMM (this
--               month + 3), audit_log_p_default, tenant_deletions
--   functions : audit_log_create_partitions(integer),
--               audit_log_drop_partitions(interval) (owner only),
--               erase_customer_pii(text) (SECURITY DEFINER, storedb_app),
--               tenants_record_deletion() (SECURITY DEFINER trigger function)
--   trigger   : tenants_record_deletion (AFTER DELETE on tenants)
--
-- Depends on
--   00_base.sql, 01_tenants.sql, 002, 003, 006, 007, 008
--   (audit_log_store_id_at_id_key, built concurrently there).
--
-- Locks (in this order; taken by the first two statements)
--   1. tenants: SHARE ROW EXCLUSIVE (dropping audit_log_store_id_fkey and
--      creating tenants_record_deletion need it), waiting at most the runner's
--      lock_timeout; writes to tenants wait until commit, reads do not.
--   2. audit_log: ACCESS EXCLUSIVE, NOWAIT: if any transaction is writing
--      audit rows at that moment the statement fails at once (55P03), the
--      runner rolls the file back, releasing tenants, and retries
--      (--lock-retries). So no ACCESS EXCLUSIVE is held while waiting for
--      another lock. Held until commit: every audited write waits for that
--      long. The file then scans audit_log once to attach it as a partition
--      (about 1 s per 500 MB; no rewrite, the primary key index is reused).
--   Run it when the audit table is small or at a quiet hour.
--
-- Undo
--   Never edit this file once applied. A later migration can detach
--   audit_log_p_legacy and the monthly partitions and re-create a plain
--   table; tenant_deletions may simply stay.
--
-- Changing safely
--   * Columns added to audit_log propagate to every partition (ALTER TABLE
--     on the parent).
--   * New partitions only through audit_log_create_partitions(): it takes a
--     short ACCESS EXCLUSIVE on audit_log (PostgreSQL 15) with lock_timeout
--     2 s, so a busy moment makes it fail instead of queueing writes.
-- =============================================================================

lock table tenants in share row exclusive mode;
lock table audit_log in access exclusive mode nowait;


-- -----------------------------------------------------------------------------
-- The current table becomes the first partition
-- -----------------------------------------------------------------------------
-- Safe: the foreign key only removed history on a tenant's hard delete (see
-- Purpose); the index that replaces the primary key was built in 008.
alter table audit_log drop constraint audit_log_store_id_fkey;
alter table audit_log drop constraint audit_log_pkey;
alter table audit_log
  add constraint audit_log_p_legacy_pkey primary key using index audit_log_store_id_at_id_key;
-- Safe: the new primary key (store_id, at, id) serves the same lookups.
drop index audit_log_store_id_at_idx;
alter table audit_log alter column id drop identity;
alter table audit_log rename to audit_log_p_legacy;
-- Safe: partitions are reached through the parent; nobody but the owner reads
-- a partition directly.
revoke all on table audit_log_p_legacy from storedb_app, storedb_definer;
drop policy audit_log_store_isolation on audit_log_p_legacy;


-- -----------------------------------------------------------------------------
-- audit_log, partitioned by month
-- -----------------------------------------------------------------------------
create table audit_log (
  id              bigint      generated always as identity,
  store_id        uuid        not null,
  at              timestamptz not null default now(),
  table_name      text        not null,
  operation       text        not null,
  row_key         jsonb       not null,
  old_row         jsonb,
  new_row         jsonb,
  changed_columns text[],
  db_user         text        not null default current_user,
  db_session_user text        not null default session_user,
  txid            bigint      not null default txid_current(),

  constraint audit_log_pkey primary key (store_id, at, id),
  constraint audit_log_operation_check
    check (operation in ('insert', 'update', 'delete')),
  constraint audit_log_row_key_check
    check (jsonb_typeof(row_key) = 'object'),
  constraint audit_log_old_row_check
    check (old_row is null or jsonb_typeof(old_row) = 'object'),
  constraint audit_log_new_row_check
    check (new_row is null or jsonb_typeof(new_row) = 'object')
) partition by range (at);

-- ids continue after the legacy rows
select setval(pg_get_serial_sequence('public.audit_log', 'id'),
              coalesce((select max(id) from audit_log_p_legacy), 0) + 1, false);

do $$
begin
  execute format('alter table public.audit_log attach partition public.audit_log_p_legacy '
                 'for values from (minvalue) to (%L)',
                 date_trunc('month', now()) + interval '1 month');
end;
$$;

create table audit_log_p_default partition of audit_log default;

comment on table audit_log is
  'Append-only history of row changes on tenant tables, partitioned by month (at), written only '
  'by audit_trigger() (SECURITY DEFINER, storedb_definer). The application may only select (own '
  'store, RLS). Updates hold the changed columns only. Retention: audit_log_drop_partitions(). '
  'storedb:not-audited it is the audit trail. storedb:no-tenant-fk the history outlives a '
  'tenant''s hard delete; offboarding and retention remove it.';
comment on column audit_log.store_id is 'Tenant the changed row belongs to (tenants: the tenant''s own id). No foreign key.';
comment on column audit_log.at is 'Transaction start time of the change (now()); the partition key.';
comment on column audit_log.table_name is 'Table of the changed row (unqualified name).';
comment on column audit_log.operation is 'insert, update or delete.';
comment on column audit_log.row_key is 'Identity of the changed row: {"store_id", "id"} (tenants: {"id"}).';
comment on column audit_log.old_row is
  'update: old values of the changed columns; delete: the row without its NULL columns; insert: NULL.';
comment on column audit_log.new_row is
  'update: new values of the changed columns; insert: the row without its NULL columns; delete: NULL.';
comment on column audit_log.changed_columns is 'Columns whose value changed (update only, updated_at left out), sorted.';
comment on column audit_log.db_user is
  'Role the session was acting as: the SET ROLE role, else the login role (session_user).';
comment on column audit_log.db_session_user is 'session_user: the role that logged in.';
comment on column audit_log.txid is 'txid_current() of the writing transaction: groups the rows of one transaction.';

alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy audit_log_store_isolation on audit_log
  using (store_id = get_current_store_id())
  with check (store_id = get_current_store_id());

-- Safe: PUBLIC has nothing on the new table; the grants restate 003's.
revoke all on table audit_log from public;
grant select on table audit_log to storedb_app;
grant insert on table audit_log to storedb_definer;


-- -----------------------------------------------------------------------------
-- audit_log_create_partitions(): the coming months
-- -----------------------------------------------------------------------------
create function audit_log_create_partitions(p_months_ahead integer default 3)
  returns setof text
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_month date := date_trunc('month', now());
  v_name  text;
begin
  -- a busy audit_log makes this fail fast instead of queueing every write
  perform set_config('lock_timeout', '2s', true);
  for i in 0 .. greatest(p_months_ahead, 0) loop
    v_name := format('audit_log_p%s', to_char(v_month + make_interval(months => i), 'YYYYMM'));
    if to_regclass('public.' || v_name) is null
       and v_month + make_interval(months => i)
           >= (select coalesce(max(substring(pg_get_expr(c.relpartbound, c.oid)
                                             from 'TO \(''([^'']+)''\)')::timestamptz),
                               '-infinity')
                 from pg_inherits h join pg_class c on c.oid = h.inhrelid
                where h.inhparent = 'public.audit_log'::regclass) then
      execute format('create table public.%I partition of public.audit_log '
                     'for values from (%L) to (%L)', v_name,
                     v_month + make_interval(months => i),
                     v_month + make_interval(months => i + 1));
      execute format('revoke all on table public.%I from public', v_name);
      return next v_name;
    end if;
  end loop;
end;
$$;

comment on function audit_log_create_partitions(integer) is
  'Creates the monthly audit_log partitions from this month to p_months_ahead months ahead that '
  'do not exist yet; returns their names. Run monthly (cron) as the schema owner.';

select audit_log_create_partitions(3);


-- -----------------------------------------------------------------------------
-- audit_log_drop_partitions(): retention by whole partitions
-- -----------------------------------------------------------------------------
create function audit_log_drop_partitions(p_keep interval default interval '13 months')
  returns setof text
  language plpgsql
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_part record;
begin
  perform set_config('lock_timeout', '2s', true);
  for v_part in
    select c.relname,
           substring(pg_get_expr(c.relpartbound, c.oid) from 'TO \(''([^'']+)''\)')::timestamptz
             as upper_bound
      from pg_inherits h join pg_class c on c.oid = h.inhrelid
     where h.inhparent = 'public.audit_log'::regclass
     order by 2
  loop
    -- every row of the partition is older than the retention period
    if v_part.upper_bound <= now() - p_keep then
      execute format('drop table public.%I', v_part.relname);
      return next v_part.relname;
    end if;
  end loop;
end;
$$;

comment on function audit_log_drop_partitions(interval) is
  'Retention: drops every audit_log partition whose rows are all older than p_keep '
  '(default 13 months); returns their names. No DELETE, no bloat. Run monthly as the schema owner.';

-- Maintenance functions: the schema owner runs them, nobody else.
revoke all on function audit_log_create_partitions(integer), audit_log_drop_partitions(interval)
  from public;


-- -----------------------------------------------------------------------------
-- tenant_deletions: a trace of every hard-deleted tenant
-- -----------------------------------------------------------------------------
create table tenant_deletions (
  tenant_id       uuid        not null,
  subdomain       text        not null,
  name            text        not null,
  soft_deleted_at timestamptz,
  deleted_at      timestamptz not null default now(),
  deleted_by      text        not null,
  rows_deleted    bigint,

  constraint tenant_deletions_pkey primary key (tenant_id)
);

comment on table tenant_deletions is
  'Platform record of hard-deleted tenants (written by trigger tenants_record_deletion). Survives '
  'the cascade: no foreign key, and not a tenant table. Not visible to the application.';
comment on column tenant_deletions.soft_deleted_at is 'tenants.deleted_at of the tenant at its hard delete.';
comment on column tenant_deletions.deleted_at is 'When the tenants row was deleted.';
comment on column tenant_deletions.deleted_by is 'Role that deleted it (SET ROLE role, else the login role).';
comment on column tenant_deletions.rows_deleted is 'Rows removed by offboard_tenant() (NULL for a plain DELETE).';

-- Safe: the new table gets no privilege but the definer's insert.
revoke all on table tenant_deletions from public;
grant select, insert, update on table tenant_deletions to storedb_definer;

create function tenants_record_deletion()
  returns trigger
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
begin
  insert into public.tenant_deletions
    (tenant_id, subdomain, name, soft_deleted_at, deleted_by, rows_deleted)
  values
    (old.id, old.subdomain, old.name, old.deleted_at,
     coalesce(nullif(current_setting('role'), 'none'), session_user),
     nullif(current_setting('storedb.offboard_rows', true), '')::bigint)
  on conflict (tenant_id) do update
    set deleted_at = now(), deleted_by = excluded.deleted_by,
        rows_deleted = excluded.rows_deleted;
  return null;
end;
$$;

comment on function tenants_record_deletion() is
  'AFTER DELETE on tenants: records the deleted tenant in tenant_deletions. SECURITY DEFINER '
  '(storedb_definer); executable by nobody (triggers fire without EXECUTE).';


-- -----------------------------------------------------------------------------
-- erase_customer_pii(): a store forgets one customer
-- -----------------------------------------------------------------------------
-- Personal columns of orders: blanked on the orders, removed from every audit
-- row of those orders (the erasure's own audit rows included: they are
-- written before the scrub, in this transaction).
create function erase_customer_pii(p_email text)
  returns integer
  language plpgsql
  security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  v_store  uuid := public.get_current_store_id();
  v_ids    uuid[];
  v_pii    text[] := array[
    'customer_email', 'customer_name', 'customer_phone',
    'billing_first_name', 'billing_last_name', 'billing_company', 'billing_address_1',
    'billing_address_2', 'billing_city', 'billing_province', 'billing_postal_code',
    'billing_phone',
    'shipping_first_name', 'shipping_last_name', 'shipping_company', 'shipping_address_1',
    'shipping_address_2', 'shipping_city', 'shipping_province', 'shipping_postal_code',
    'shipping_phone'];
begin
  if v_store is null then
    raise exception using
      errcode = 'insufficient_privilege',
      message = 'erase_customer_pii() needs a store: call set_current_store_id() first';
  end if;

  select coalesce(array_agg(o.id), '{}')
    into v_ids
    from public.orders o
   where o.store_id = v_store
     and o.customer_email = lower(btrim(p_email));

  update public.orders o
     set customer_email = null, customer_name = null, customer_phone = null,
         billing_first_name = null, billing_last_name = null, billing_company = null,
         billing_address_1 = null, billing_address_2 = null, billing_city = null,
         billing_province = null, billing_postal_code = null, billing_phone = null,
         shipping_first_name = null, shipping_last_name = null, shipping_company = null,
         shipping_address_1 = null, shipping_address_2 = null, shipping_city = null,
         shipping_province = null, shipping_postal_code = null, shipping_phone = null
   where o.store_id = v_store
     and o.id = any (v_ids);

  update public.audit_log a
     set old_row = a.old_row - v_pii,
         new_row = a.new_row - v_pii
   where a.store_id = v_store
     and a.table_name = 'orders'
     and (a.row_key ->> 'id')::uuid = any (v_ids);

  return cardinality(v_ids);
end;
$$;

comment on function erase_customer_pii(text) is
  'Erasure for the current store: blanks the personal columns of the orders of customer p_email '
  'and removes them from those orders'' audit rows; returns the number of orders. '
  'SECURITY DEFINER (storedb_definer); executable by storedb_app.';


-- -----------------------------------------------------------------------------
-- Owners and privileges of the new definer functions (pattern of 003)
-- -----------------------------------------------------------------------------
do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not has_schema_privilege('storedb_definer', 'public', 'create') then
    grant create on schema public to storedb_definer;
    perform set_config('storedb.revoke_definer_create', 'on', true);
  end if;
end;
$$;

alter function tenants_record_deletion() owner to storedb_definer;
alter function erase_customer_pii(text) owner to storedb_definer;

do $$
begin
  if current_setting('storedb.revoke_definer_create', true) = 'on' then
    revoke create on schema public from storedb_definer;
  end if;
end;
$$;

revoke all on function tenants_record_deletion(), erase_customer_pii(text) from public;
grant execute on function erase_customer_pii(text) to storedb_app;
-- what erase_customer_pii() reads and writes as its owner
grant select, update on table orders to storedb_definer;
grant select, update on table audit_log to storedb_definer;
grant execute on function get_current_store_id() to storedb_definer;

create trigger tenants_record_deletion
  after delete on tenants
  for each row execute function tenants_record_deletion();
