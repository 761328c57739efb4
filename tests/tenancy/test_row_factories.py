"""The DAO and tenant_scope under every row factory, on a connection and on a pool.

Applications configure psycopg as they like (``ConnectionPool(...,
kwargs={"row_factory": dict_row})`` is common); storedb must read its own
rows as tuples whatever was configured, and leave the configuration alone.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg.rows import class_row, dict_row, namedtuple_row, tuple_row
from psycopg_pool import ConnectionPool

import storedb


@dataclasses.dataclass
class Row:
    count: int


FACTORIES: dict[str, Callable[..., Any]] = {
    "tuple": tuple_row, "dict": dict_row, "namedtuple": namedtuple_row,
    "class": class_row(Row),
}


def exercise(db: Any, label: str) -> None:
    """Every DAO call and a scope, checked field by field."""
    sub = f"rf-{label}-{uuid.uuid4().hex[:8]}"
    made = storedb.create_tenant(db, subdomain=sub, name="Row Factory")
    assert isinstance(made.id, uuid.UUID) and made.subdomain == sub
    assert made.name == "Row Factory" and made.status == "active"
    assert storedb.get_tenant(db, subdomain=sub) == made
    assert storedb.get_tenant(db, id=made.id) == made
    with storedb.tenant_scope(db, made.id) as conn:
        conn.execute("insert into products (title, handle) values ('Mug', 'mug')")
    deleted = storedb.soft_delete_tenant(db, made.id)
    assert deleted.id == made.id and deleted.deleted
    assert storedb.get_tenant(db, subdomain=sub) is None


@pytest.mark.parametrize("name", FACTORIES)
def test_dao_on_a_connection(app_dsn: str, name: str) -> None:
    factory = FACTORIES[name]
    with psycopg.connect(app_dsn, row_factory=factory) as conn:
        exercise(conn, name)
        assert conn.row_factory is factory  # left as the application set it


@pytest.mark.parametrize("name", FACTORIES)
def test_dao_on_a_pool(app_dsn: str, name: str) -> None:
    factory = FACTORIES[name]
    with ConnectionPool(app_dsn, min_size=1, max_size=2, open=True,
                        kwargs={"row_factory": factory}) as pool:
        exercise(pool, name)
        with pool.connection() as conn:
            assert conn.row_factory is factory


def test_dao_inside_the_callers_transaction_with_dict_rows(app_dsn: str) -> None:
    with psycopg.connect(app_dsn, row_factory=dict_row) as conn:
        conn.execute("select 1")  # the application's own transaction is open
        made = storedb.create_tenant(conn, subdomain="rf-nested", name="Nested")
        assert storedb.get_tenant(conn, id=made.id) == made
        with storedb.tenant_scope(conn, made.id) as scoped:
            assert scoped.execute("select count(*) from products").fetchone() == {"count": 0}
        conn.commit()
