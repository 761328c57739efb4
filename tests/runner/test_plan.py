"""The plan: each file's state and what a run applies, from plain values."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from storedb.errors import DriftError, UsageError
from storedb.runner._files import MigrationFile, checksum
from storedb.runner._plan import AppliedMigration, make_plan, refuse_drift

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def f(name: str, body: str = "select 1;") -> MigrationFile:
    folder, filename = name.split("/")
    return MigrationFile(name, folder, int(filename.split("_")[0]), Path(name), body.encode(),
                         checksum(body.encode()))


def applied(file: MigrationFile, check: str | None = None) -> AppliedMigration:
    return AppliedMigration(file.name, check or file.checksum, NOW, "me", 1)


def test_states() -> None:
    a, b, c = f("schema/00_a.sql"), f("migrations/001_b.sql"), f("migrations/002_c.sql")
    gone = AppliedMigration("migrations/000_gone.sql", "0" * 64, NOW, "me", 1)
    plan = make_plan([a, b, c], [applied(a), applied(b, "f" * 64), gone])
    assert {e.file: e.state for e in plan.entries} == {
        a.name: "applied", b.name: "changed", c.name: "pending", gone.filename: "missing"}
    assert plan.pending == (c,)
    assert not plan.clean


def test_refuse_drift_names_every_file_and_the_remedy() -> None:
    a, b = f("schema/00_a.sql"), f("migrations/001_b.sql")
    gone = AppliedMigration("migrations/009_gone.sql", "0" * 64, NOW, "me", 1)
    plan = make_plan([a, b], [applied(a, "e" * 64), applied(b), gone])
    with pytest.raises(DriftError) as err:
        refuse_drift(plan)
    message = str(err.value)
    assert "schema/00_a.sql: changed" in message and "storedb accept" in message
    assert "migrations/009_gone.sql: applied but no longer on disk" in message
    assert err.value.files == ["schema/00_a.sql", "migrations/009_gone.sql"]


def test_out_of_order_refused_unless_allowed() -> None:
    a, b, c = f("migrations/001_a.sql"), f("migrations/002_b.sql"), f("migrations/003_c.sql")
    plan = make_plan([a, b, c], [applied(a), applied(c)])
    assert plan.out_of_order == (b.name,)
    with pytest.raises(DriftError, match="--out-of-order"):
        refuse_drift(plan)
    refuse_drift(plan, allow_out_of_order=True)
    assert plan.pending == (b,)


def test_target_stops_after_file() -> None:
    files = [f("migrations/001_a.sql"), f("migrations/002_b.sql"), f("migrations/003_c.sql")]
    plan = make_plan(files, [], target="migrations/002_b.sql")
    assert [p.name for p in plan.pending] == ["migrations/001_a.sql", "migrations/002_b.sql"]
    with pytest.raises(UsageError, match="no such file"):
        make_plan(files, [], target="migrations/004_d.sql")


def test_all_applied_is_clean() -> None:
    a = f("schema/00_a.sql")
    assert make_plan([a], [applied(a)]).clean
