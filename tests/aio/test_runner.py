"""storedb.aio's migrate, status and check: the sync runner's results and errors, awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

import storedb
from storedb import aio
from tests.helpers import HISTORY, HISTORY_LOG, history, tables

BASE = {
    "schema/00_base.sql": "-- base\ncreate table items (id int primary key, name text);\n",
    "migrations/001_seed_items.sql": "insert into items values (1, 'one');\n",
}


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_migrate_from_a_dsn_then_up_to_date(empty_dsn: str, sqldir: Callable[..., Path]
                                            ) -> None:
    root = sqldir(BASE)
    seen: list[str] = []
    result = run(aio.migrate(empty_dsn, directory=root, on_applied=lambda a: seen.append(a.file)))
    assert [a.file for a in result.applied] == list(BASE) == seen
    assert run(aio.migrate(empty_dsn, directory=root)) == storedb.MigrateResult(up_to_date=True)
    assert [h[0] for h in history(empty_dsn)] == sorted(BASE)


def test_an_async_connection_is_given_back_as_it_was(empty_dsn: str,
                                                     sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)

    async def main() -> tuple[Any, ...]:
        async with await psycopg.AsyncConnection.connect(empty_dsn) as conn:
            applied = await aio.migrate(conn, directory=root)
            again = await aio.migrate(conn, directory=root)
            return (len(applied.applied), again.up_to_date, conn.autocommit,
                    conn.info.transaction_status)

    assert run(main()) == (2, True, False, psycopg.pq.TransactionStatus.IDLE)


def test_a_connection_inside_a_transaction_is_left_alone(empty_dsn: str,
                                                         sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)

    async def main() -> Any:
        async with await psycopg.AsyncConnection.connect(empty_dsn) as conn:
            await conn.execute("create table mine (id int)")  # the application's transaction
            result = await aio.migrate(conn, directory=root)
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            await conn.rollback()
            return result

    assert len(run(main()).applied) == 2
    assert "mine" not in tables(empty_dsn) and "items" in tables(empty_dsn)


def test_a_pool_status_and_check_match_the_sync_api(empty_dsn: str,
                                                    sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)
    storedb.migrate(empty_dsn, directory=root)
    sqldir({"migrations/002_more.sql": "insert into items values (2, 'two');\n"})

    async def main() -> tuple[Any, ...]:
        async with AsyncConnectionPool(empty_dsn, min_size=1, open=False) as pool:
            return (await aio.status(pool, directory=root), await aio.check(pool, directory=root),
                    await aio.migrate(pool, directory=root, dry_run=True))

    status, check, dry = run(main())
    assert status == storedb.status(empty_dsn, directory=root)
    assert check == storedb.check(empty_dsn, directory=root) and not check.ok
    assert dry.pending == ("migrations/002_more.sql",) and dry.dry_run


def test_errors_are_the_sync_errors(empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir({**BASE, "migrations/002_broken.sql":
                   "create table half (id int);\ninsert into items values (1, 'duplicate');\n"})
    with pytest.raises(storedb.MigrationFailed) as err:
        run(aio.migrate(empty_dsn, directory=root))
    with pytest.raises(storedb.MigrationFailed) as again:
        storedb.migrate(empty_dsn, directory=root)
    assert str(err.value) == str(again.value) and err.value.line == 2
    with pytest.raises(storedb.ConnectError, match="no database given"):
        run(aio.migrate(None, directory=root))


def test_concurrent_tasks_apply_every_file_once(empty_dsn: str,
                                                sqldir: Callable[..., Path]) -> None:
    root = sqldir({**BASE, "migrations/002_slow.sql": "select pg_sleep(0.3);\n"})

    async def main() -> list[storedb.MigrateResult]:
        return list(await asyncio.gather(*(aio.migrate(empty_dsn, directory=root)
                                           for _ in range(4))))

    results = run(main())
    assert sum(len(r.applied) for r in results) == 3
    assert len(history(empty_dsn)) == 3


def test_cancelling_the_task_cancels_the_statement_and_rolls_the_file_back(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir({**BASE, "migrations/002_sleepy.sql":
                   "create table half (id int);\nselect pg_sleep(30);\n"})

    async def main() -> float:
        task = asyncio.create_task(aio.migrate(empty_dsn, directory=root))
        async with await psycopg.AsyncConnection.connect(empty_dsn, autocommit=True) as watch:
            for _ in range(300):
                cur = await watch.execute("select count(*) from pg_stat_activity "
                                          "where query like '%pg_sleep(30)%' and pid <> "
                                          "pg_backend_pid() and state = 'active'")
                if (await cur.fetchone()) == (1,):
                    break
                await asyncio.sleep(0.05)
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - started

    assert run(main()) < 10  # not the 30 s of the statement
    assert [h[0] for h in history(empty_dsn)] == sorted(BASE)  # 002 rolled back
    assert "half" not in tables(empty_dsn)
    with psycopg.connect(empty_dsn) as conn:
        assert conn.execute("select count(*) from pg_locks where locktype = 'advisory'"
                            ).fetchone() == (0,)
        assert conn.execute("select count(*) from pg_stat_activity where query like "
                            "'%pg_sleep(30)%' and pid <> pg_backend_pid()").fetchone() == (0,)


def test_cancelling_while_waiting_for_the_lock(empty_dsn: str,
                                               sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)
    key = storedb.runner._lock.LOCK_KEY

    async def main() -> float:
        async with await psycopg.AsyncConnection.connect(empty_dsn, autocommit=True) as holder:
            await holder.execute("select pg_advisory_lock(%s)", (key,))
            task = asyncio.create_task(aio.migrate(empty_dsn, directory=root))
            await asyncio.sleep(0.5)
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - started

    assert run(main()) < 2
    assert history(empty_dsn) == []


def test_the_up_to_date_check_survives_discard_all_and_a_dropped_history(
        empty_dsn: str, sqldir: Callable[..., Path]) -> None:
    root = sqldir(BASE)

    async def main() -> tuple[bool, ...]:
        async with await psycopg.AsyncConnection.connect(empty_dsn, autocommit=True) as conn:
            first = await aio.migrate(conn, directory=root)
            up = (await aio.migrate(conn, directory=root)).up_to_date
            await conn.execute("discard all")  # a pool's reset drops prepared statements
            again = (await aio.migrate(conn, directory=root)).up_to_date
            await conn.execute(f"drop table {HISTORY}, {HISTORY_LOG}, items")
            rebuilt = await aio.migrate(conn, directory=root)
            return (len(first.applied) == 2, up, again, len(rebuilt.applied) == 2)

    assert run(main()) == (True, True, True, True)
