"""An application's conftest.py: its own fixtures, built on storedb's.

storedb's fixtures need no code here; this file only points the application
at the fresh test database, as it would point it at production.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(storedb_app_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The application reads DATABASE_URL; in a test it is this test's own database."""
    monkeypatch.setenv("DATABASE_URL", storedb_app_dsn)
    return storedb_app_dsn
