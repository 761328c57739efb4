"""Every file starts from the same session state, as psql's fresh session per file would.

A file may ``SET search_path``, ``SET ROLE``, change ``client_encoding`` or
``synchronous_commit``, create temporary tables...  psql runs each file in a
new session, so none of that reaches the next file.  storedb keeps one
connection (it holds the runner lock), so it takes a snapshot of the
session when the run starts and puts the session back to it after every
file: in the file's own transaction, just before its history row, and once
more when the run ends, so a caller's connection is handed back with the
settings it had.

What one session cannot undo: a custom setting a file invented
(``set_config('app.user', ...)``) still exists, empty, for later files,
where a new session would not know it (``current_setting('app.user', true)``
gives '' instead of NULL); and a caller's own temporary tables are kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import MigrationFileError

if TYPE_CHECKING:
    import psycopg

#: Settings that are not session state, or that the restore sets by itself.
_SKIP = ("role", "session_authorization", "transaction_isolation", "transaction_read_only",
         "transaction_deferrable")

CAPTURE = f"""
select coalesce(json_agg(json_build_array(name, current_setting(name)) order by name)
                filter (where source = 'session' and name not in {_SKIP!r}), '[]')::text,
       current_setting('session_authorization'), current_setting('role'),
       exists (select from pg_class where relnamespace = pg_my_temp_schema()),
       current_setting('standard_conforming_strings'), current_setting('client_encoding')
from pg_settings
"""


@dataclass(frozen=True)
class Snapshot:
    """What a file must find, and a caller must get back: the session as the run found it."""

    settings: tuple[tuple[str, str], ...]
    authorization: str
    role: str
    temp_objects: bool
    client_encoding: str


def capture(conn: psycopg.Connection[Any]) -> Snapshot:
    """The session's state now; refuses a server that reads strings the pre-9.1 way."""
    row = conn.execute(CAPTURE).fetchone()
    assert row is not None
    settings, authorization, role, temp, scs, encoding = row
    if scs != "on":
        raise MigrationFileError(
            "this session has standard_conforming_strings = off (set for the database, the "
            "role or the connection), so backslashes in '...' strings would be read the pre-9.1 "
            "way. storedb parses files as PostgreSQL does by default: set it back to on "
            "(alter database ... reset standard_conforming_strings).")
    return Snapshot(tuple((str(n), str(v)) for n, v in json.loads(settings)),
                    str(authorization), str(role), bool(temp), str(encoding))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def restore(snapshot: Snapshot) -> str:
    """SQL that puts the session back to ``snapshot``; valid inside a transaction block.

    ``set session authorization`` also drops any ``set role``; ``reset all``
    drops every setting (back to the server, database, role and connection
    defaults), then the session's own settings come back.  Temporary objects
    and sequence state go, as they would with a new session, unless the
    caller's session had temporary objects of its own.
    """
    sql = [f"set session authorization {_ident(snapshot.authorization)}", "reset all"]
    if snapshot.role != "none":
        sql.append(f"set role {_ident(snapshot.role)}")
    if snapshot.settings:
        sql.append("select " + ", ".join(f"set_config({_literal(n)}, {_literal(v)}, false)"
                                         for n, v in snapshot.settings))
    if not snapshot.temp_objects:
        sql.append("discard temp")
    sql.append("discard sequences")
    return "; ".join(sql)
