"""The ``storedb`` group: where failures become messages, JSON and exit codes."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
from typing import Any

import click

from ..errors import Error

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_WORK = 0, 1, 2, 3


class _Seconds(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.2
    """A finite, non-negative number of seconds (nan and inf are typos, not timeouts)."""

    name = "SECONDS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or seconds < 0:
            self.fail(f"{value!r} must be a finite number of seconds >= 0", param, ctx)
        return seconds


SECONDS = _Seconds()


class _Terminated(KeyboardInterrupt):
    """SIGTERM (docker stop, systemd): handled like Ctrl-C, so the statement is cancelled."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated()


class _Group(click.Group):
    """The one place where failures become messages (or JSON) and exit codes.

    With ``--json`` anywhere on the line, even a usage error prints one JSON
    object on stdout.  A Python traceback is shown only for a bug in storedb
    itself, and only with STOREDB_DEBUG=1.
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Run with stdout and stderr redacted: no password of a DSN on the command line
        (in an option, or misplaced as an argument) or in the environment reaches them."""
        from .._secrets import RedactingStream, remember

        argv = list(sys.argv[1:] if args is None else args)
        for value in [*argv, os.environ.get("DATABASE_URL", "")]:
            remember(value.split("=", 1)[1] if value.startswith("--") and "=" in value
                     else value)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
        try:
            return self._main(argv, prog_name, complete_var, standalone_mode, **extra)
        except Exception:  # only with STOREDB_DEBUG=1: the traceback, redacted as well
            import traceback

            traceback.print_exc()
            sys.exit(1)
        finally:
            sys.stdout, sys.stderr = saved

    def _main(self, argv: list[str], prog_name: str | None, complete_var: str | None,
              standalone_mode: bool, **extra: Any) -> Any:
        as_json = "--json" in argv

        def fail(kind: str, message: str, code: int, payload: dict[str, Any] | None = None
                 ) -> None:
            if as_json:
                click.echo(json.dumps({"error": payload or {"type": kind, "message": message}},
                                      default=str))
            else:
                click.echo(f"storedb: {'' if code in (130, 143) else 'error: '}{message}", err=True)
            sys.exit(code)

        signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            code = super().main(argv, prog_name=prog_name or "storedb", complete_var=complete_var,
                                standalone_mode=False, **extra)
        except Error as exc:
            fail(type(exc).__name__, str(exc), exc.exit_code, exc.to_json())
        except click.ClickException as exc:
            if isinstance(exc, click.UsageError) and "unexpected extra argument" in \
                    exc.message and any(c in exc.message for c in ("://", "=")):
                exc = click.UsageError(f"{exc.message}\nHint: give the database with --dsn "
                                       "DSN (or DATABASE_URL).", exc.ctx)
            if not as_json:
                exc.show()
                sys.exit(exc.exit_code)
            fail("UsageError", exc.format_message(), exc.exit_code)
        except (KeyboardInterrupt, click.Abort) as exc:
            cause = exc.__cause__ or exc.__context__  # click turns it into Abort
            word, code = ("terminated", 143) if _Terminated in (type(exc), type(cause)) else (
                "interrupted", 130)
            fail("Interrupted", f"{word}: the statement running was cancelled and the file "
                 "being applied rolled back (a no-transaction file keeps the statements it had "
                 "committed); files applied before it stay. Run migrate again to continue.", code)
        except Exception as exc:
            if os.environ.get("STOREDB_DEBUG"):
                raise
            fail("InternalError", f"internal error ({type(exc).__name__}: {exc}). This is a bug "
                 "in storedb; run again with STOREDB_DEBUG=1 for the traceback and report it.", 1)
        if not standalone_mode:
            return code
        sys.exit(code or 0)

@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="storedb")
def main() -> None:
    """storedb: migrate and check a storedb PostgreSQL database.

    Exit codes: 0 ok, 1 failure or refusal, 2 usage error, 3 check found work
    or lint found problems, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM);
    an interrupted file is rolled back.
    """
