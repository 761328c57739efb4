"""An application's conftest.py: its own fixtures, built on storedb's.

storedb's fixtures need no code here; this file only points the application
at the fresh test database, as its deployment points it at production.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(storedb_db: str, storedb_app_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The application serves as DATABASE_URL's role and migrates as MIGRATE_DATABASE_URL's."""
    monkeypatch.setenv("DATABASE_URL", storedb_app_dsn)  # a login role in storedb_app
    monkeypatch.setenv("MIGRATE_DATABASE_URL", storedb_db)  # the schema's owner
    return storedb_app_dsn
