"""The tenant commands: offboard a store, create the application's login role."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from uuid import UUID

import click

from ..errors import UsageError
from ._group import SECONDS, main
from ._options import database_command, dsn_option, emit, json_option, quiet_option, wait_option


@main.command()
@database_command
@click.argument("tenant_id")
@click.option("--max-seconds", type=SECONDS, default=1.0, show_default=True,
              help="Time budget of each transaction; batch sizes follow it.")
@click.option("--batch-rows", type=click.IntRange(100, 100_000), default=1000,
              show_default=True, help="Rows of the first batch.")
def offboard(dsn: str | None, directory: Path | None, as_json: bool, wait: float,
             tenant_id: str, max_seconds: float, batch_rows: int) -> None:
    """Delete a soft-deleted tenant in short transactions (resumable; run as the owner)."""
    from ..tenancy import OffboardStep, offboard_tenant

    def report(step: OffboardStep) -> None:
        if not as_json:
            click.echo(f"{step.total:>10} rows  {step.rows:>7} from {step.table:<26} "
                       f"{step.seconds * 1000:7.0f} ms", err=True)

    try:
        key = str(UUID(tenant_id))
    except ValueError:
        raise UsageError(f"{tenant_id!r} is not a tenant id (a UUID)") from None
    result = offboard_tenant(dsn, key, max_seconds=max_seconds, batch_rows=batch_rows,
                             wait=wait, progress=report)
    emit(as_json, result.to_json(),
          f"offboarded tenant {result.tenant_id}: {result.rows} rows in {result.batches} "
          f"transactions, {result.seconds:.1f} s (longest {result.longest_batch_seconds:.2f} s); "
          "recorded in tenant_deletions")

@main.command("app-role")
@click.argument("name")
@dsn_option
@json_option
@wait_option
@quiet_option
@click.option("--password-env", metavar="VAR",
              help="Set the password from environment variable VAR (never on the command line).")
@click.option("--password-stdin", is_flag=True,
              help="Set the password from the first line of standard input.")
def app_role(name: str, dsn: str | None, as_json: bool, wait: float, password_env: str | None,
             password_stdin: bool) -> None:
    """Create the application's login role NAME in storedb_app (idempotent).

    Run it as the migrating owner after migrate. The application then connects as
    NAME: row level security applies to it, unlike to the owner or a superuser.
    Without a password option the role can log in only where pg_hba.conf trusts it.
    """
    from ..tenancy import create_app_role

    if password_env and password_stdin:
        raise UsageError("give the password one way: --password-env VAR or --password-stdin.")
    password = None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise UsageError(f"--password-env {password_env}: that environment variable is "
                             "not set (or empty).")
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input gave no password.")
    created = create_app_role(dsn, name, password=password, wait=wait)
    state = "created" if created else "exists"
    emit(as_json, {"role": name, "state": state, "password_set": password is not None},
          f"role {name} {state}: a login member of storedb_app"
          + ("; password set" if password is not None else ""))
