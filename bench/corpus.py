"""Deterministic migration corpora for the benchmarks.

``realistic(root, n)`` writes ``n`` files under ``root/migrations`` that look
like a real project's history: tables with constraints and foreign keys to
earlier tables, indexes, enums, PL/pgSQL functions with dollar-quoted bodies
(some with nested tags and semicolons inside strings), triggers, DO blocks,
views and comments.  ``tiny(root, n)`` writes ``n`` one-statement files.
The same seed always gives byte-identical files.

``as_flat(src, dst)`` and ``as_dbmate(src, dst)`` copy a storedb SQL root
into the layouts yoyo-migrations and dbmate expect, in the same order.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

_WORDS = ("customer", "invoice", "shipment", "warehouse", "coupon", "review", "wishlist",
          "refund", "carrier", "supplier", "payout", "ledger", "voucher", "bundle", "region",
          "channel", "campaign", "segment")
_TYPES = ("text", "integer", "bigint", "numeric(12,2)", "boolean", "timestamptz", "jsonb",
          "uuid", "date")


def _table_file(rng: random.Random, i: int, tables: list[str]) -> tuple[str, str]:
    word = rng.choice(_WORDS)
    t = f"{word}_{i:03d}"
    cols = [f"  {rng.choice(_WORDS)}_{k} {rng.choice(_TYPES)}" + (" not null default 0"
            if rng.random() < 0.2 else "") for k in range(rng.randint(4, 12))]
    cols = [c.replace("jsonb not null default 0", "jsonb not null default '{}'")
             .replace("uuid not null default 0", "uuid not null default gen_random_uuid()")
             .replace("text not null default 0", "text not null default ''")
             .replace("boolean not null default 0", "boolean not null default false")
             .replace("timestamptz not null default 0", "timestamptz not null default now()")
             .replace("date not null default 0", "date not null default current_date")
            for c in cols]
    parent = rng.choice(tables) if tables else None
    fk = (f",\n  {parent}_id bigint references {parent} (id) on delete cascade"
          if parent else "")
    enum = f"{t}_state"
    lines = [
        f"-- {i:03d}: the {word} table (generated benchmark corpus)",
        "-- Purpose: realistic DDL for timing; depends on earlier files of the corpus.",
        "-- Locks: new objects only.",
        "",
        f"create type {enum} as enum ('new', 'active', 'done', 'canceled');",
        f"comment on type {enum} is 'Lifecycle of {word} rows; values are append-only.';",
        "",
        f"create table {t} (",
        "  id bigint generated always as identity primary key,",
        f"  state {enum} not null default 'new',",
        "  label text not null check (btrim(label) <> '' and length(label) <= 200),",
        "  created_at timestamptz not null default now(),",
        "  updated_at timestamptz not null default now(),",
        ",\n".join(cols) + fk,
        ");",
        "",
        f"comment on table {t} is 'Rows of {word}; a semicolon; inside a string is fine.';",
        f"comment on column {t}.label is 'Human-readable label (''quoted'' text).';",
        f"create index {t}_created_at_idx on {t} (created_at desc);",
        f"create index {t}_state_idx on {t} (state) where state <> 'done';",
    ]
    if parent:
        lines.append(f"create index {t}_{parent}_id_idx on {t} ({parent}_id);")
    lines += [
        "",
        f"create or replace function {t}_touch()",
        "  returns trigger",
        "  language plpgsql",
        "  set search_path = pg_catalog, public",
        "as $fn$",
        "begin",
        "  -- keep updated_at; a no-op update keeps it as it is",
        "  if to_jsonb(new) = to_jsonb(old) then",
        "    return new;",
        "  end if;",
        "  new.updated_at := now();",
        "  if new.label like '%;%' then",
        "    raise notice 'label with a semicolon: %', new.label;",
        "  end if;",
        "  return new;",
        "end;",
        "$fn$;",
        "",
        f"create trigger {t}_touch before update on {t}",
        f"  for each row execute function {t}_touch();",
        "",
        f"create or replace function {t}_count(p_state {enum})",
        "  returns bigint",
        "  language sql",
        "  stable",
        "as $$",
        f"  select count(*) from {t} where state = p_state;",
        "$$;",
        "",
        "do $do$",
        "declare",
        "  v_n integer;",
        "begin",
        f"  select count(*) into v_n from pg_class where relname = '{t}';",
        "  if v_n <> 1 then",
        f"    raise exception 'table {t} missing';",
        "  end if;",
        "  execute format($f$comment on function %I(%s) is %L$f$,",
        f"                 '{t}_count', '{enum}', 'Rows of {t} in a state.');",
        "end;",
        "$do$;",
        "",
        f"insert into {t} (label) select 'seed ' || g from generate_series(1, 20) g;",
        f"create view {t}_open as select id, label, state from {t} where state <> 'done';",
    ]
    return "\n".join(lines) + "\n", t


def _alter_file(rng: random.Random, i: int, tables: list[str]) -> str:
    t = rng.choice(tables)
    col = f"{rng.choice(_WORDS)}_note_{i:03d}"
    return "\n".join([
        f"-- {i:03d}: extend {t} (generated benchmark corpus)",
        "-- Locks: ACCESS EXCLUSIVE on the table, briefly (no rewrite: nullable column).",
        "",
        f"alter table {t} add column {col} text;",
        f"comment on column {t}.{col} is 'Free text added by migration {i:03d}.';",
        f"alter type {t}_state add value if not exists 'archived_{i:03d}';",
        f"create index {t}_{col}_idx on {t} ({col}) where {col} is not null;",
        f"update {t} set {col} = 'note ' || id where id % 3 = 0;",
        "",
        f"create or replace function {t}_summary()",
        "  returns table (state text, n bigint)",
        "  language plpgsql",
        "  stable",
        "as $body$",
        "begin",
        "  return query",
        f"    select s.state::text, count(*) from {t} s group by s.state order by 1;",
        "end;",
        "$body$;",
        "",
    ]) + "\n"


def realistic(root: Path, n: int = 200, seed: int = 6) -> Path:
    """Write ``n`` realistic migration files under ``root/migrations``; return ``root``."""
    rng = random.Random(seed)
    shutil.rmtree(root, ignore_errors=True)
    (root / "migrations").mkdir(parents=True)
    tables: list[str] = []
    for i in range(1, n + 1):
        if tables and rng.random() < 0.3:
            body, slug = _alter_file(rng, i, tables), "alter_table"
        else:
            body, name = _table_file(rng, i, tables)
            tables.append(name)
            slug = f"add_{name}"
        (root / "migrations" / f"{i:04d}_{slug}.sql").write_text(body)
    return root


def tiny(root: Path, n: int) -> Path:
    """Write ``n`` one-statement files under ``root/migrations``; return ``root``."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "migrations").mkdir(parents=True)
    for i in range(1, n + 1):
        (root / "migrations" / f"{i:04d}_t{i}.sql").write_text(
            f"-- tiny file {i}\ncreate table t{i} (id int primary key, v text);\n")
    return root


def _ordered(src: Path) -> list[Path]:
    from storedb.runner._files import load_directory

    return [f.path for f in load_directory(src)]


def as_flat(src: Path, dst: Path) -> list[Path]:
    """Copy into one folder, names prefixed by apply position (yoyo sorts by name)."""
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    out = []
    for k, path in enumerate(_ordered(src), start=1):
        target = dst / f"{k:05d}_{path.parent.name}_{path.stem}.sql"
        shutil.copyfile(path, target)
        out.append(target)
    return out


def as_dbmate(src: Path, dst: Path) -> list[Path]:
    """Copy into dbmate's format: numeric version prefix and '-- migrate:up' markers."""
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    out = []
    for k, path in enumerate(_ordered(src), start=1):
        target = dst / f"{20240101000000 + k}_{path.parent.name}_{path.stem}.sql"
        target.write_text("-- migrate:up\n" + path.read_text() + "\n-- migrate:down\n")
        out.append(target)
    return out


def dump(path: Path, statements: int = 15_000, lines: int = 60_000) -> Path:
    """One schema-dump-shaped file: ``statements`` statements over exactly ``lines`` lines.

    Tables, comments (some with non-ASCII text and ``;``), indexes, PL/pgSQL
    functions with dollar quotes, sequences' setval and small inserts, as
    pg_dump writes them (without COPY data, which storedb refuses).
    """
    rng = random.Random(10)
    out: list[str] = ["-- generated pg_dump-shaped schema (benchmark corpus)",
                      "select pg_catalog.set_config('search_path', 'public', false);"]
    made = 1
    k = 0
    while made < statements:
        k += 1
        t = f"{rng.choice(_WORDS)}_{k:05d}"
        block = [
            f"create table public.{t} (", "    id bigint not null,",
            "    label text default 'café; naïve'::text not null,",
            "    created_at timestamp with time zone default now() not null", ");",
            f"comment on table public.{t} is 'Rows of {t}: ünïcode; and a semicolon';",
            f"alter table only public.{t} add constraint {t}_pkey primary key (id);",
            f"create index {t}_created_idx on public.{t} using btree (created_at);",
            f"create function public.{t}_touch() returns trigger", "    language plpgsql",
            "    as $$", "begin", "  new.created_at := now(); -- keep it; fresh", "  return new;",
            "end;", "$$;",
            f"insert into public.{t} (id, label) values (1, 'a''b'), (2, E'c\\\\d');",
        ]
        room = statements - made
        block_statements = 6
        if room < block_statements:
            block = [f"select {i};" for i in range(room)]
            block_statements = room
        out += block
        made += block_statements
    padding = lines - len(out)
    if padding < 0:
        raise ValueError(f"{statements} statements need more than {lines} lines")
    step = max(1, len(out) // max(1, padding))
    padded: list[str] = []
    for i, line in enumerate(out):
        padded.append(line)
        if padding and i % step == 0 and line.endswith(";"):
            padded.append("-- ")
            padding -= 1
    padded += ["--"] * padding
    path.write_text("\n".join(padded) + "\n")
    return path
