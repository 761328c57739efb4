"""The history tables: their definition, and reading and writing their rows.

``schema_migrations`` holds one row per applied file (what ran, its checksum,
who, when, how long, and any accepted edit); ``schema_migrations_log`` keeps
every run, acceptance and baseline, so the history can be audited later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._plan import AppliedMigration

if TYPE_CHECKING:
    import psycopg

TABLE = "public.schema_migrations"

DDL = """
create table if not exists public.schema_migrations (
    filename          text primary key,
    checksum          text not null check (checksum ~ '^[0-9a-f]{64}$'),
    applied_at        timestamptz not null default now(),
    applied_by        text not null default current_user,
    duration_ms       integer not null default 0,
    sql_text          text not null,
    kind              text not null default 'applied' check (kind in ('applied', 'baseline')),
    applied_checksum  text not null,
    accepted_at       timestamptz,
    accepted_by       text,
    accepted_reason   text
);
comment on table public.schema_migrations is
    'storedb: one row per applied SQL file. Never edit by hand: use storedb accept / baseline.';
comment on column public.schema_migrations.checksum is
    'SHA-256 of the file (BOM stripped, CRLF as LF) as it is expected on disk now.';
comment on column public.schema_migrations.applied_checksum is
    'SHA-256 of the file as it ran; differs from checksum after storedb accept.';
comment on column public.schema_migrations.sql_text is 'The SQL exactly as applied.';
create table if not exists public.schema_migrations_log (
    id         bigint generated always as identity primary key,
    at         timestamptz not null default now(),
    db_user    text not null default current_user,
    event      text not null
               check (event in ('migrate', 'accept', 'baseline', 'seed', 'environment')),
    filename   text,
    checksum   text,
    detail     text
);
comment on table public.schema_migrations_log is
    'storedb: every run, accepted edit and baseline, with the directory digest after each run.';
"""

#: One query answers "is anything to do?": the digest of the whole history,
#: comparable with files.directory_digest() of the directory on disk.
DIGEST_QUERY = """
select encode(sha256(convert_to(coalesce(string_agg(filename || ' ' || checksum, e'\\n'
       order by filename || ' ' || checksum collate "C"), ''), 'UTF8')), 'hex')
from public.schema_migrations
"""


def history_digest(conn: psycopg.Connection[Any]) -> str | None:
    """The history's digest, or None when there is no history table yet."""
    import psycopg

    try:
        row = conn.execute(DIGEST_QUERY).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return row[0] if row else None


def ensure(conn: psycopg.Connection[Any]) -> None:
    """Create the history tables if missing; call with the runner lock held."""
    exists = conn.execute("select to_regclass('public.schema_migrations_log') is not null"
                          ).fetchone()
    if not (exists and exists[0]):
        conn.execute(DDL)


def read(conn: psycopg.Connection[Any]) -> list[AppliedMigration]:
    if history_exists(conn) is False:
        return []
    rows = conn.execute(
        "select filename, checksum, applied_at, applied_by, duration_ms, kind,"
        " accepted_at, accepted_by, accepted_reason from public.schema_migrations"
    ).fetchall()
    return [AppliedMigration(*r) for r in rows]


def history_exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("select to_regclass('public.schema_migrations') is not null").fetchone()
    return bool(row and row[0])


def sql_as_applied(conn: psycopg.Connection[Any], filename: str) -> str | None:
    if not history_exists(conn):
        return None
    row = conn.execute("select sql_text from public.schema_migrations where filename = %s",
                       (filename,)).fetchone()
    return str(row[0]) if row else None


INSERT = """
insert into public.schema_migrations
    (filename, checksum, applied_checksum, duration_ms, sql_text, kind)
values (%s, %s, %s, %s, %s, %s)
"""

LOG = "insert into public.schema_migrations_log (event, filename, checksum, detail) " \
      "values (%s, %s, %s, %s)"
