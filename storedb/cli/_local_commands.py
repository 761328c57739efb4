"""``storedb local``: url, status and stop of the development cluster."""

from __future__ import annotations

import click

from ._group import main
from ._local_cluster import local_app_role, start_local
from ._options import emit, json_option, quiet_option


@main.group()
def local() -> None:
    """Manage the local development cluster under ./.storedb/."""


@local.command("url")
@quiet_option
@json_option
@click.option("--app", "app", is_flag=True, help="The application role's URL (subject to row "
              "level security) instead of the superuser's, which migrates.")
def local_url(as_json: bool, app: bool) -> None:
    """Print the local cluster's URL; starts the cluster (and says so) if it is not running."""
    from .._local import APP_USER, DBNAME, SUPERUSER

    cluster = start_local()
    user = SUPERUSER
    if app:
        local_app_role(cluster.dsn)
        user = APP_USER
    url = cluster.url(DBNAME, user)
    emit(as_json, {"url": url, "dsn": cluster.dsn_for(DBNAME, user), "user": user}, url)

@local.command("status")
@quiet_option
@json_option
def local_status(as_json: bool) -> None:
    """Say whether the local cluster runs, and where."""
    from .._local import is_running, locate

    cluster = locate()
    if not (cluster.data / "PG_VERSION").exists():
        emit(as_json, {"state": "absent", "home": str(cluster.home), "url": cluster.url()},
              f"no local cluster in {cluster.root} yet: any command without --dsn creates it")
        return
    state = "running" if is_running(cluster) else "stopped"
    emit(as_json, {"state": state, "home": str(cluster.home), "url": cluster.url()},
          f"{state}: {cluster.home} ({cluster.url()})")


@local.command("stop")
@quiet_option
@json_option
def local_stop(as_json: bool) -> None:
    """Stop the local cluster (its data is kept)."""
    from .._local import stop

    stopped = stop()
    emit(as_json, {"stopped": stopped}, "stopped" if stopped else "not running")
