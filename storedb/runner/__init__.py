"""The migration runner: SQL files in, an up-to-date database out.

The mental model fits on one screen (``_run.py``)::

    find the files      _files       names, checksums, header directives (pure)
    split them          _statements  PostgreSQL's own parser, exact positions (pure)
    compare             _plan        applied / pending / changed / missing (pure)
    serialise runners   _lock        one advisory lock, waiters LISTEN for its release
    apply each file     _apply       its own text, in one transaction with its history row
                        _session     each file starts from the session the run found
                        _failure     FILE:LINE:COL, the server's fields, advice by SQLSTATE
                        _wire        the psycopg internals that send a file as one message
    show progress       _progress    file/statement lines, a watcher for long statements
    remember            _history     storedb.schema_migrations and its event log

Around it: ``_progress`` (progress lines for large files), ``_drift`` (diff /
accept an edited file), ``_baseline`` (adopt an existing database), ``_seed``
(development data), ``_fleet`` (many databases), ``_template`` (what
``storedb new`` writes) and ``_results`` (return values).
Modules starting with ``_`` are internal; what is public is re-exported here.
"""

from __future__ import annotations

from ._baseline import baseline
from ._drift import accept, diff
from ._fleet import FleetItem, FleetResult, migrate_many
from ._progress import Progress
from ._results import AppliedFile, CheckResult, MigrateResult, StatusResult
from ._run import check, migrate, status
from ._seed import seed

__all__ = [
    "AppliedFile",
    "CheckResult",
    "FleetItem",
    "FleetResult",
    "MigrateResult",
    "Progress",
    "StatusResult",
    "accept",
    "baseline",
    "check",
    "diff",
    "migrate",
    "migrate_many",
    "seed",
    "status",
]
