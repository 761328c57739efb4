"""Each rule on its classic case (flagged) and on its safe rewrite (clean); no database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from storedb.lint import RULES, lint

NO_TX = "-- storedb:no-transaction\n"

#: migrations/001: what the files under test find already there.
BASE = """
create table products (
  id uuid not null, store_id uuid not null, title text, price numeric,
  constraint products_pkey primary key (store_id, id));
alter table products enable row level security;
alter table products force row level security;
create policy products_store_isolation on products
  using (store_id = get_current_store_id()) with check (store_id = get_current_store_id());
create table plain (id bigint generated always as identity primary key, name text, code text);
"""

RLS = """
alter table reviews enable row level security;
alter table reviews force row level security;
create policy reviews_store_isolation on reviews
  using (store_id = get_current_store_id()) with check (store_id = get_current_store_id());
"""


def run(sqldir: Callable[..., Path], *files: str) -> list[str]:
    """Lint migrations 002, 003, ... written after BASE; the rule ids found, in order."""
    names = [f"migrations/{i:03d}_change.sql" for i in range(2, 2 + len(files))]
    root = sqldir({"migrations/001_base.sql": BASE, **dict(zip(names, files, strict=True))},
                  clear=True)
    return [f.rule for f in lint(files=names, directory=root).findings]


# rule -> (classic dangerous files, their safe rewrites)
CASES: dict[str, tuple[list[list[str]], list[list[str]]]] = {
    "create-index-not-concurrent": (
        [["create index products_title_idx on products (store_id, title);"]],
        [[NO_TX + "drop index concurrently if exists products_title_idx;\n"
          "create index concurrently if not exists products_title_idx "
          "on products (store_id, title);"],
         ["create table t (id bigint generated always as identity primary key, a text);\n"
          "create index t_a_idx on t (a);"]]),
    "drop-index-not-concurrent": (
        [["drop index products_title_idx;"]],
        [[NO_TX + "drop index concurrently if exists products_title_idx;"],
         ["create table t (id bigint primary key, a text); create index t_a on t (a);"
          " drop index t_a;"]]),
    "reindex-not-concurrent": (
        [["reindex index products_pkey;"]],
        [[NO_TX + "reindex index concurrently products_pkey;"]]),
    "volatile-default": (
        [["alter table plain add column token uuid default gen_random_uuid();"],
         ["alter table plain add column r float8 default random();"],
         ["alter table plain add column at timestamptz default clock_timestamp();"],
         ["alter table plain add column n bigserial;"],
         ["alter table plain add column k text default md5(random()::text);"]],
        [["alter table plain add column created_at timestamptz default now();"],
         ["alter table plain add column token uuid;\n"
          "alter table plain alter column token set default gen_random_uuid();"],
         ["create table t (id uuid primary key default gen_random_uuid());"]]),
    "add-required-column": (
        [["alter table plain add column sku text not null;"]],
        [["alter table plain add column sku text not null default '';"],
         ["alter table plain add column sku text;"]]),
    "alter-column-type": (
        [["alter table plain alter column code type integer using code::integer;"],
         ["alter table plain alter column id type uuid using gen_random_uuid();"]],
        [["alter table plain alter column code type text;"],
         ["create table t (a int); alter table t alter column a type bigint;"]]),
    "set-not-null": (
        [["alter table plain alter column name set not null;"]],
        [["alter table plain add constraint plain_name_nn check (name is not null) not valid;",
          "alter table plain validate constraint plain_name_nn;\n"
          "alter table plain alter column name set not null;"],
         ["create table t (a text); alter table t alter column a set not null;"]]),
    "constraint-not-valid": (
        [["alter table plain add constraint plain_code_check check (length(code) < 10);"],
         ["alter table plain add constraint plain_p_fkey foreign key (code) "
          "references other (code);"]],
        [["alter table plain add constraint plain_code_check check (length(code) < 10) "
          "not valid;", "alter table plain validate constraint plain_code_check;"]]),
    "validate-in-same-transaction": (
        [["alter table plain add constraint c check (length(code) < 10) not valid;\n"
          "alter table plain validate constraint c;"]],
        [["alter table plain add constraint c check (length(code) < 10) not valid;",
          "alter table plain validate constraint c;"]]),
    "unique-without-index": (
        [["alter table plain add constraint plain_code_key unique (code);"],
         ["alter table plain add primary key (code);"]],
        [[NO_TX + "drop index concurrently if exists plain_code_key;\n"
          "create unique index concurrently if not exists plain_code_key on plain (code);",
          "alter table plain add constraint plain_code_key unique using index plain_code_key;"]]),
    "rename": (
        [["alter table plain rename column code to sku;"], ["alter table plain rename to p2;"]],
        [["alter table plain add column sku text;"],
         ["create table t (a text); alter table t rename column a to b;"],
         ["alter table plain rename to plain_legacy;\n"
          "create view plain as select * from plain_legacy;"]]),
    "drop-column": (
        [["alter table plain drop column code;"]],
        [["create table t (a text, b text); alter table t drop column b;"]]),
    "drop-table": (
        [["drop table plain;"], ["drop table if exists plain cascade;"]],
        [["create table t (a text); drop table t;"]]),
    "table-rewrite": (
        [[NO_TX + "vacuum full plain;"], ["cluster plain using plain_pkey;"],
         ["alter table plain set unlogged;"]],
        [[NO_TX + "vacuum (analyze) plain;"]]),
    "lock-table": (
        [["lock table plain;"], ["lock table plain in share mode;"]],
        [["update plain set name = 'x' where id = 1;"]]),
    "int-key": (
        [["create table t (id serial primary key);"],
         ["create table t (id integer generated always as identity primary key);"],
         ["create table t (id int, constraint t_pkey primary key (id));"]],
        [["create table t (id bigint generated always as identity primary key, n integer);"]]),
    "timestamp-without-tz": (
        [["create table t (id bigint primary key, at timestamp);"],
         ["alter table plain add column at timestamp(3);"]],
        [["create table t (id bigint primary key, at timestamptz);"]]),
    "char-length": (
        [["create table t (id bigint primary key, code varchar(20));"],
         ["create table t (id bigint primary key, code char(2));"]],
        [["create table t (id bigint primary key, code text check (length(code) <= 20));"]]),
    "concurrently-not-idempotent": (
        [[NO_TX + "drop index concurrently if exists plain_name_idx;\n"
          "create index concurrently plain_name_idx on plain (name);"],
         [NO_TX + "drop index concurrently plain_name_idx;"]],
        [[NO_TX + "drop index concurrently if exists plain_name_idx;\n"
          "create index concurrently if not exists plain_name_idx on plain (name);"]]),
    "invalid-index-leftover": (
        [[NO_TX + "create index concurrently if not exists plain_name_idx on plain (name);"]],
        [[NO_TX + "drop index concurrently if exists plain_name_idx;\n"
          "create index concurrently if not exists plain_name_idx on plain (name);"]]),
    "no-transaction-data-change": (
        [[NO_TX + "update plain set name = lower(name);"],
         [NO_TX + "insert into plain (name) values ('x');"]],
        [[NO_TX + "insert into plain (name) values ('x') on conflict do nothing;"],
         ["update plain set name = lower(name);"]]),
    "tenant-rls": (
        [["create table reviews (id uuid not null, store_id uuid not null, "
          "primary key (store_id, id));"],
         ["create table reviews (id uuid not null, store_id uuid not null, "
          "primary key (store_id, id));\nalter table reviews enable row level security;"],
         ["create table reviews (id uuid not null, store_id uuid not null, "
          "primary key (store_id, id));" + RLS.replace("force", "no force")],
         ["alter table products disable row level security;"],
         ["create policy products_all on products using (true);"]],
        [["create table reviews (id uuid not null, store_id uuid not null, "
          "primary key (store_id, id));" + RLS],
         ["create table reviews (id uuid not null, store_id uuid not null, "
          "primary key (store_id, id));"
          + RLS.replace("get_current_store_id()",
                        "current_setting('app.current_store_id', true)::uuid")]]),
    "tenant-key": (
        [["create table reviews (id uuid primary key, store_id uuid not null);" + RLS],
         ["create table reviews (id uuid not null, store_id uuid not null, product_id uuid "
          "references products (id), primary key (store_id, id));" + RLS],
         ["create table reviews (id uuid not null, store_id uuid not null, sku text, "
          "primary key (store_id, id), unique (sku));" + RLS],
         ["create unique index products_title_key on products (title);"]],
        [["create table reviews (id uuid not null, store_id uuid not null, product_id uuid, "
          "primary key (store_id, id), foreign key (store_id, product_id) references "
          "products (store_id, id), foreign key (store_id) references tenants (id));" + RLS],
         [NO_TX + "drop index concurrently if exists products_title_key;\n"
          "create unique index concurrently if not exists products_title_key "
          "on products (title);\n"
          "comment on index products_title_key is 'storedb:global-unique: one per platform';"]]),
    "tenant-index": (
        [["create table reviews (id uuid not null, store_id uuid not null, product_id uuid, "
          "primary key (store_id, id));" + RLS + "create index reviews_p on reviews (product_id);"],
         ["create table reviews (id uuid not null, store_id uuid not null, "
          "primary key (id, store_id));" + RLS]],
        [["create table reviews (id uuid not null, store_id uuid not null, product_id uuid, "
          "primary key (store_id, id));" + RLS
          + "create index reviews_p on reviews (store_id, product_id);"]]),
    "definer-search-path": (
        [["create function f() returns int language sql security definer "
          "as $$ select 1 $$;"],
         ["create function f() returns int language sql security definer "
          "set search_path = pg_catalog, public as $$ select 1 $$;"],
         ["create function f() returns int language sql as $$ select 1 $$;\n"
          "alter function f() security definer;"]],
        [["create function f() returns int language sql security definer "
          "set search_path = pg_catalog, public, pg_temp as $$ select 1 $$;"],
         ["create function f() returns int language sql set search_path = public "
          "as $$ select 1 $$;"]]),
    "grant-public": (
        [["grant select on plain to public;"],
         ["alter default privileges grant select on tables to public;"]],
        [["grant select on plain to storedb_app;"], ["revoke all on plain from public;"]]),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_flags_its_classic_case(sqldir: Callable[..., Path], rule: str) -> None:
    for files in CASES[rule][0]:
        assert rule in run(sqldir, *files), files


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rules_safe_rewrite_is_clean(sqldir: Callable[..., Path], rule: str) -> None:
    for files in CASES[rule][1]:
        assert run(sqldir, *files) == [], files


def test_every_rule_of_the_table_is_tested_or_meta() -> None:
    meta = {"measured-lock", "measured-rewrite", "measure-failed", "parse-error",
            "suppression-without-reason", "unknown-rule"}
    assert set(RULES) - meta == set(CASES)


def test_every_finding_names_a_safe_rewrite(sqldir: Callable[..., Path]) -> None:
    root = sqldir({"migrations/001_base.sql": BASE,
                   "migrations/002_change.sql": "create index products_title_idx on products "
                   "(store_id, title);"})
    (found,) = lint(files=["migrations/002_change.sql"], directory=root).findings
    assert found.fix.startswith("drop index concurrently if exists products_title_idx; "
                                "CREATE INDEX CONCURRENTLY IF NOT EXISTS products_title_idx "
                                "ON products (store_id, title);")
    assert found.severity == "error" and "existing table products" in found.message
