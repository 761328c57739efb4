"""The history tables: their definition, and every statement that reads or writes them.

``storedb.schema_migrations`` holds one row per applied file (what ran, its
checksum, who, when, how long, and any accepted edit);
``storedb.schema_migrations_log`` keeps every run, acceptance and baseline.
They live in a schema of their own, so a user's migration that creates or
alters an unqualified ``schema_migrations`` (a Rails or golang-migrate past)
never meets them.  Databases migrated before that (history in ``public``) are
moved over, atomically, by the next run that takes the runner lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._plan import AppliedMigration

if TYPE_CHECKING:
    import psycopg

    from ._files import MigrationFile

SCHEMA = "storedb"
TABLE = f"{SCHEMA}.schema_migrations"
LOG_TABLE = f"{SCHEMA}.schema_migrations_log"
#: Where storedb kept its history before it had a schema of its own.
LEGACY_TABLE, LEGACY_LOG = "public.schema_migrations", "public.schema_migrations_log"

EVENTS = ("migrate", "accept", "baseline", "seed", "environment", "upgrade")
_EVENT_CHECK = "event in (" + ", ".join(f"'{e}'" for e in EVENTS) + ")"

DDL = f"""
create schema if not exists {SCHEMA};
comment on schema {SCHEMA} is
    'storedb''s own tables (migration history). Never edit by hand: use the storedb commands.';
create table {TABLE} (
    filename          text primary key,
    checksum          text not null check (checksum ~ '^[0-9a-f]{{64}}$'),
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
comment on table {TABLE} is
    'storedb: one row per applied SQL file. Never edit by hand: use storedb accept / baseline.';
comment on column {TABLE}.checksum is
    'SHA-256 of the file (BOM stripped, CRLF as LF) as it is expected on disk now.';
comment on column {TABLE}.applied_checksum is
    'SHA-256 of the file as it ran; differs from checksum after storedb accept.';
comment on column {TABLE}.sql_text is 'The SQL exactly as applied.';
create table {LOG_TABLE} (
    id         bigint generated always as identity primary key,
    at         timestamptz not null default now(),
    db_user    text not null default current_user,
    event      text not null constraint schema_migrations_log_event_check
               check ({_EVENT_CHECK}),
    filename   text,
    checksum   text,
    detail     text
);
comment on table {LOG_TABLE} is
    'storedb: every run, accepted edit and baseline, with the directory digest after each run.';
"""

#: Moves a history kept in public (storedb before 0.2) into its own schema: the
#: tables, their rows, keys and identity sequence move as they are, in one transaction.
UPGRADE = f"""
create schema if not exists {SCHEMA};
alter table {LEGACY_TABLE} set schema {SCHEMA};
alter table {LEGACY_LOG} set schema {SCHEMA};
alter table {LOG_TABLE} drop constraint if exists schema_migrations_log_event_check,
    add constraint schema_migrations_log_event_check check ({_EVENT_CHECK});
insert into {LOG_TABLE} (event, detail) values
    ('upgrade', 'history moved from schema public to schema {SCHEMA}');
"""

_WHERE = f"""
select to_regclass('{TABLE}') is not null,
       to_regclass('{LEGACY_LOG}') is not null and exists (
           select from pg_attribute where attrelid = to_regclass('{LEGACY_TABLE}')
              and attname = 'applied_checksum' and not attisdropped)
"""


def _digest_query(table: str) -> str:
    """One query answers "is anything to do?": the digest of the whole history,
    comparable with files.directory_digest() of the directory on disk."""
    return f"""
select encode(sha256(convert_to(coalesce(string_agg(filename || ' ' || checksum, e'\\n'
       order by filename || ' ' || checksum collate "C"), ''), 'UTF8')), 'hex')
from {table}
"""


DIGEST_QUERY = _digest_query(TABLE)


def history_digest(conn: psycopg.Connection[Any], *, legacy: bool = True) -> str | None:
    """The history's digest, or None when there is no history table yet.

    ``legacy=False`` ignores a history still in ``public``: migrate then takes
    the lock path, which moves it.
    """
    import psycopg

    try:
        row = conn.execute(DIGEST_QUERY).fetchone()
    except psycopg.errors.UndefinedTable:
        if not legacy or table(conn) != LEGACY_TABLE:
            return None
        row = conn.execute(_digest_query(LEGACY_TABLE)).fetchone()
    return row[0] if row else None


def table(conn: psycopg.Connection[Any]) -> str | None:
    """The history table of this database: storedb's, a not yet moved one, or None."""
    row = conn.execute(_WHERE).fetchone()
    if row and row[0]:
        return TABLE
    return LEGACY_TABLE if row and row[1] else None


def ensure(conn: psycopg.Connection[Any]) -> None:
    """Create the history tables, or move a legacy history; call with the runner lock held."""
    where = table(conn)
    if where == TABLE:
        return
    with conn.transaction():
        conn.execute(UPGRADE if where == LEGACY_TABLE else DDL)


def read(conn: psycopg.Connection[Any]) -> list[AppliedMigration]:
    where = table(conn)
    if where is None:
        return []
    rows = conn.execute(
        "select filename, checksum, applied_at, applied_by, duration_ms, kind,"
        f" accepted_at, accepted_by, accepted_reason from {where}"
    ).fetchall()
    return [AppliedMigration(*r) for r in rows]


def history_exists(conn: psycopg.Connection[Any]) -> bool:
    return table(conn) is not None


def sql_as_applied(conn: psycopg.Connection[Any], filename: str) -> str | None:
    where = table(conn)
    if where is None:
        return None
    row = conn.execute(f"select sql_text from {where} where filename = %s",
                       (filename,)).fetchone()
    return str(row[0]) if row else None


def checksum_of(conn: psycopg.Connection[Any], filename: str) -> str | None:
    """The checksum history expects for ``filename``; None when it was never applied."""
    where = table(conn)
    row = conn.execute(f"select checksum from {where} where filename = %s",
                       (filename,)).fetchone() if where else None
    return str(row[0]) if row else None


def accept(conn: psycopg.Connection[Any], filename: str, checksum: str, reason: str) -> None:
    """Record an edited file's new checksum, with who, when and why (history must exist)."""
    with conn.transaction():
        conn.execute(f"update {TABLE} set checksum = %s, accepted_at = now(),"
                     " accepted_by = current_user, accepted_reason = %s where filename = %s",
                     (checksum, reason, filename))
        conn.execute(LOG, ("accept", filename, checksum, reason))


def literal(value: str | int | None) -> str:
    """A SQL literal for a message of several statements (standard_conforming_strings on)."""
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def record(file: MigrationFile, duration_ms: int | None = None) -> str:
    """The history insert for an applied file, as literal SQL to end its transaction with.

    ``duration_ms=None`` lets the server measure it (from the transaction's
    start), so the statement is the same whether run or printed.
    """
    duration = "(extract(epoch from clock_timestamp() - now()) * 1000)::integer" \
        if duration_ms is None else literal(duration_ms)
    return (f"insert into {TABLE} (filename, checksum, applied_checksum, duration_ms, sql_text, "
            f"kind) values ({literal(file.name)}, {literal(file.checksum)}, "
            f"{literal(file.checksum)}, {duration}, {literal(file.text)}, 'applied') "
            "returning duration_ms")


def log_entry(event: str, filename: str | None, checksum: str | None, detail: str | None
              ) -> str:
    """A log row as literal SQL (for a message of several statements)."""
    return (f"insert into {LOG_TABLE} (event, filename, checksum, detail) values "
            f"({literal(event)}, {literal(filename)}, {literal(checksum)}, {literal(detail)})")


INSERT = f"""
insert into {TABLE}
    (filename, checksum, applied_checksum, duration_ms, sql_text, kind)
values (%s, %s, %s, %s, %s, %s)
"""

LOG = f"insert into {LOG_TABLE} (event, filename, checksum, detail) values (%s, %s, %s, %s)"

#: The kind of database this is (development, staging, production), as last recorded.
ENVIRONMENT = (f"select detail from {LOG_TABLE} where event = 'environment' "
               "order by id desc limit 1")
