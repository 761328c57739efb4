"""The local development cluster: the CLI's fallback database, and ``storedb local``.

Only the command line starts a server of its own (the library refuses to): a
command without --dsn and without $DATABASE_URL uses this one, and says so.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._local import LocalCluster


def local_default(dsn: str | None) -> str:
    """What a command without --dsn uses: the environment, else the local cluster.

    Only the CLI falls back to a server of its own (the library refuses to); it
    says where the server is and how to stop it.
    """
    from .._connection import env_dsn

    if dsn is not None:
        return dsn
    from_env = env_dsn()
    if from_env is not None:
        return from_env
    return start_local().dsn


def start_local() -> LocalCluster:
    """The local development cluster, started (and its database prepared) when needed."""
    from .._local import ensure_running, is_running, locate

    log = logging.getLogger("storedb")
    cluster = locate()
    if not is_running(cluster):
        log.info("starting the local PostgreSQL under %s (stop it with 'storedb local stop')",
                 cluster.root)
    cluster = ensure_running(on_create=_prepare_local)
    where = str(cluster.root) if cluster.home == cluster.root else \
        f"{cluster.root} (data in {cluster.home}, which the postgres user can reach)"
    log.info("using the local PostgreSQL under %s: %s", where, cluster.dsn)
    return cluster


def _prepare_local(dsn: str) -> None:
    """A new local database: marked for development (seed allows it), with an app role."""
    from ..runner._seed import mark_development

    mark_development(dsn)
    local_app_role(dsn)


def local_app_role(dsn: str) -> None:
    """The local cluster's application role (``app``, subject to RLS), made if missing.

    The development superuser bypasses row level security, so an application
    tried against it would see every store: the local cluster offers a role
    that behaves like production's.  storedb_app is created here as a DBA would
    before the first migration (003 then finds it and grants it the tables).
    """
    from .._connection import session
    from .._local import APP_USER
    from ..tenancy import create_app_role

    with session(dsn) as conn:
        conn.execute(
            "do $$ begin if not exists (select from pg_roles where rolname = 'storedb_app') "
            "then create role storedb_app nologin nobypassrls; comment on role storedb_app is "
            "'storedb: group role of application login roles. Subject to RLS; call "
            "set_current_store_id() in every transaction.'; end if; end $$")
    create_app_role(dsn, APP_USER)
