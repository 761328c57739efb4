"""Fixtures of the schema tests: the superuser's and the application's connections, two stores."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest


@pytest.fixture
def su(migrated_db: psycopg.Connection[object]) -> psycopg.Connection[object]:
    """The superuser connection of a fresh migrated database (bypasses RLS)."""
    migrated_db.commit()
    return migrated_db


@pytest.fixture
def app(app_dsn: str) -> Iterator[psycopg.Connection[object]]:
    """``app_user`` (a member of storedb_app), autocommit: each test opens its transactions."""
    with psycopg.connect(app_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def store(app: psycopg.Connection[object]) -> Callable[[str], uuid.UUID]:
    """Creates a store as the app (create_tenant) and returns its id."""
    def make(subdomain: str, currency: str = "USD") -> uuid.UUID:
        row = app.execute("select create_tenant(%s, %s, p_currency_code => %s)",
                          (subdomain, subdomain.title(), currency)).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))
    return make

