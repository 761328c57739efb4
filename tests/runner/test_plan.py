"""The plan: each file's state and what a run applies, from plain values."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from storedb.errors import DriftError, UsageError
from storedb.runner._files import MigrationFile, checksum
from storedb.runner._plan import AppliedMigration, Entry, make_plan, refuse_drift

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


def test_entries_in_file_order_then_missing_with_their_checksums() -> None:
    a, b, c = f("schema/00_a.sql"), f("migrations/001_b.sql", "select 2;"), f(
        "migrations/002_c.sql", "select 3;")
    old_b = applied(b, "b" * 64)
    gone1 = AppliedMigration("migrations/009_z.sql", "9" * 64, NOW, "me", 1)
    gone2 = AppliedMigration("migrations/000_y.sql", "8" * 64, NOW, "me", 1)
    plan = make_plan([a, b, c], [gone1, old_b, applied(a), gone2])
    assert plan.entries == (
        Entry(a.name, "applied", a.checksum, a, applied(a)),
        Entry(b.name, "changed", b.checksum, b, old_b),  # the checksum on disk
        Entry(c.name, "pending", c.checksum, c, None),
        Entry(gone1.filename, "missing", "9" * 64, None, gone1),  # the checksum in history
        Entry(gone2.filename, "missing", "8" * 64, None, gone2),
    )
    assert [e.file for e in plan.by_state("missing")] == [gone1.filename, gone2.filename]
    assert plan.by_state("applied") == [plan.entries[0]]
    assert plan.pending == (c,) and plan.out_of_order == ()


@pytest.mark.parametrize("state", ["pending", "changed", "missing"])
def test_any_work_makes_the_plan_unclean(state: str) -> None:
    a, b = f("schema/00_a.sql"), f("migrations/001_b.sql")
    history = {"pending": [applied(a)], "changed": [applied(a), applied(b, "0" * 64)],
               "missing": [applied(a), applied(b), applied(f("migrations/002_c.sql"))]}[state]
    plan = make_plan([a, b], history)
    assert not plan.clean
    assert [e.state for e in plan.entries if e.state != "applied"] == [state]


def test_nothing_at_all_is_clean() -> None:
    plan = make_plan([], [])
    assert plan.clean and plan.entries == () and plan.pending == ()


def test_only_pending_files_before_an_applied_one_are_out_of_order() -> None:
    a, b, c, d, e = (f(f"migrations/00{i}_x.sql") for i in range(1, 6))
    plan = make_plan([a, b, c, d, e], [applied(a), applied(d)])
    assert plan.out_of_order == (b.name, c.name)
    assert plan.pending == (b, c, e)
    assert make_plan([a, b, c], []).out_of_order == ()
    assert make_plan([a, b, c], [applied(a)]).out_of_order == ()
    assert make_plan([a, b, c], [applied(b)]).out_of_order == (a.name,)


def test_target_keeps_earlier_pending_files_and_names_an_example() -> None:
    a, b, c = f("migrations/001_a.sql"), f("migrations/002_b.sql"), f("migrations/003_c.sql")
    plan = make_plan([a, b, c], [applied(a)], target=b.name)
    assert plan.pending == (b,)
    assert make_plan([a, b, c], [], target=a.name).pending == (a,)
    assert make_plan([a, b, c], [], target=c.name).pending == (a, b, c)
    assert make_plan([a, b, c], [applied(c)], target=a.name).pending == (a,)
    with pytest.raises(UsageError) as err:
        make_plan([a, b, c], [], target="003_c.sql")
    assert str(err.value) == ("--target 003_c.sql: no such file. Name it as status shows it "
                              "(e.g. migrations/003_c.sql) or give its path (as storedb new "
                              "prints it).")
    with pytest.raises(UsageError) as err:
        make_plan([], [], target="x")
    assert "(e.g. migrations/001_name.sql)" in str(err.value)


def test_drift_message_names_each_file_with_both_checksums_and_every_remedy() -> None:
    a, b, c, d = (f(f"migrations/00{i}_x.sql", f"select {i};") for i in range(1, 5))
    was = "0123456789abcdef" + "0" * 48
    gone = AppliedMigration("migrations/000_gone.sql", "0" * 64, NOW, "me", 1)
    plan = make_plan([a, b, c, d], [applied(a, was), gone, applied(d)])
    with pytest.raises(DriftError) as err:
        refuse_drift(plan)
    assert str(err.value) == (
        "refusing to migrate (nothing was applied):\n"
        f"  migrations/001_x.sql: changed since it was applied (checksum 0123456789ab in history,"
        f" {a.checksum[:12]} on disk). Restore the file (git checkout), or if the edit is "
        "deliberate and harmless (a comment), review 'storedb diff migrations/001_x.sql' and "
        "record it with 'storedb accept migrations/001_x.sql --reason ...'. Put real changes in "
        "a new migration.\n"
        "  migrations/000_gone.sql: applied but no longer on disk (renamed or deleted). Restore "
        "it under its old name; applied files are history and must stay.\n"
        "  migrations/002_x.sql: pending, but sorts before files already applied (a merge of "
        "parallel branches?). Renumber it after the last applied file ('storedb new' picks the "
        "number), or run with --out-of-order if it does not depend on them.\n"
        "  migrations/003_x.sql: pending, but sorts before files already applied (a merge of "
        "parallel branches?). Renumber it after the last applied file ('storedb new' picks the "
        "number), or run with --out-of-order if it does not depend on them.")
    assert err.value.files == ["migrations/001_x.sql", "migrations/000_gone.sql",
                               "migrations/002_x.sql", "migrations/003_x.sql"]
    assert err.value.to_json()["files"] == err.value.files  # what --json prints


def test_out_of_order_alone_lists_the_file_for_json() -> None:
    a, b, c = f("migrations/001_a.sql"), f("migrations/002_b.sql"), f("migrations/003_c.sql")
    with pytest.raises(DriftError) as err:
        refuse_drift(make_plan([a, b, c], [applied(a), applied(c)]))
    assert err.value.files == [b.name]
    assert err.value.to_json() == {"type": "DriftError", "message": str(err.value),
                                   "files": [b.name]}


def test_allowing_out_of_order_still_refuses_changed_and_missing_files() -> None:
    a, b, c = f("migrations/001_a.sql"), f("migrations/002_b.sql"), f("migrations/003_c.sql")
    plan = make_plan([a, b, c], [applied(a, "1" * 64), applied(c)])
    with pytest.raises(DriftError) as err:
        refuse_drift(plan, allow_out_of_order=True)
    assert err.value.files == [a.name]
    assert "002_b" not in str(err.value)
    assert refuse_drift(make_plan([a], [applied(a)])) is None
