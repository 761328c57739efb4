"""Suppression comments, the baseline of applied files, positions, and the shipped SQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from storedb.lint import lint
from tests.helpers import SQL_DIR

BAD = "create index plain_name_idx on plain (name);"
BASE = "create table plain (id bigint generated always as identity primary key, name text);\n"


def _lint(sqldir: Callable[..., Path], body: str, **extra: str):  # type: ignore[no-untyped-def]
    root = sqldir({"migrations/001_base.sql": BASE, "migrations/002_change.sql": body, **extra},
                  clear=True)
    return lint(files=["migrations/002_change.sql"], directory=root)


def test_a_suppression_with_a_reason_hides_the_finding(sqldir: Callable[..., Path]) -> None:
    result = _lint(sqldir, "-- storedb:lint-ignore create-index-not-concurrent plain has 10 "
                   "rows, forever\n" + BAD)
    assert result.ok and result.suppressed == 1


def test_a_suppression_covers_only_the_next_statement_and_its_rules(
        sqldir: Callable[..., Path]) -> None:
    result = _lint(sqldir, "-- storedb:lint-ignore drop-column not this rule\n" + BAD + "\n"
                   "-- storedb:lint-ignore create-index-not-concurrent small table\n"
                   "select 1;\n" + BAD.replace("plain_name_idx", "other_idx"))
    assert [(f.rule, f.line) for f in result.findings] == [
        ("create-index-not-concurrent", 2), ("create-index-not-concurrent", 5)]


def test_a_suppression_without_a_reason_is_a_finding(sqldir: Callable[..., Path]) -> None:
    result = _lint(sqldir, "select 1;\n  -- storedb:lint-ignore create-index-not-concurrent\n"
                   + BAD)
    rules = [(f.rule, f.line, f.column) for f in result.findings]
    assert ("suppression-without-reason", 2, 3) in rules
    assert ("create-index-not-concurrent", 3, 1) in rules  # and it suppresses nothing


def test_a_suppression_naming_an_unknown_rule_is_a_finding(sqldir: Callable[..., Path]) -> None:
    result = _lint(sqldir, "-- storedb:lint-ignore create-index-not-concurent typo\n" + BAD)
    assert {f.rule for f in result.findings} == {"unknown-rule", "create-index-not-concurrent"}


def test_findings_point_at_the_exact_line_and_column(sqldir: Callable[..., Path]) -> None:
    body = ("-- header é ü\n/* a comment; with a semicolon */ select 'x;y';\n\n"
            "alter table plain add column é text,\n    add column token uuid default "
            "gen_random_uuid();\n")
    (found,) = _lint(sqldir, body).findings
    assert (found.rule, found.line, found.column) == ("volatile-default", 5, 16)


def test_the_baseline_accepts_findings_of_applied_files(sqldir: Callable[..., Path]) -> None:
    result = _lint(sqldir, BAD, **{"lint-baseline.txt": "# accepted\n"
                                   "migrations/002_change.sql:1 create-index-not-concurrent "
                                   "applied in 2024 on an empty table\n"})
    assert result.ok and result.baselined == 1
    result = _lint(sqldir, BAD, **{"lint-baseline.txt": "migrations/002_change.sql:1 "
                                   "create-index-not-concurrent\n"})
    assert {f.rule for f in result.findings} == {"suppression-without-reason",
                                                 "create-index-not-concurrent"}


def test_a_parse_error_is_a_finding_with_its_position(sqldir: Callable[..., Path]) -> None:
    (found,) = _lint(sqldir, "select 1;\ncreate tabel x ();\n").findings
    assert (found.rule, found.line, found.column) == ("parse-error", 2, 8)


def test_a_statement_the_runner_refuses_is_still_linted(sqldir: Callable[..., Path]) -> None:
    """VACUUM FULL in a transactional file: migrate refuses it, and it would rewrite."""
    rules = [f.rule for f in _lint(sqldir, "select 1;\nvacuum full plain;\n").findings]
    assert rules == ["parse-error", "table-rewrite"]


def test_the_shipped_migrations_pass_lint() -> None:
    result = lint(all_files=True, directory=SQL_DIR)
    assert result.ok, "\n".join(str(f) for f in result.findings)
    assert len(result.files) == len(list(SQL_DIR.glob("*/*.sql"))) - len(
        list(SQL_DIR.glob("seed/*.sql")))


def test_the_baseline_only_names_applied_shipped_files_and_each_entry_is_used() -> None:
    """A stale entry (the file changed, or the rule got precise) must be removed."""
    from storedb.lint._run import check_files
    from storedb.lint._suppress import load_baseline
    from storedb.runner._files import load_directory

    files = load_directory(SQL_DIR)
    raw, ignores, _ = check_files(files, files)
    baseline = load_baseline(SQL_DIR)
    assert not baseline.problems
    # findings a new file suppresses inline (017's documented lock order) need no entry
    inline = {(i.file, rule) for i in ignores for rule in i.rules}
    assert set(baseline.entries) == {(f.file, f.line, f.rule) for f in raw
                                     if (f.file, f.rule) not in inline}
