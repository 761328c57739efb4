"""Naming, ordering, checksums and directives: pure rules, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from storedb.errors import MigrationFileError
from storedb.runner._files import (
    checksum,
    directory_digest,
    load_directory,
    next_migration_name,
    normalise,
    parse_directives,
    select_files,
)


def test_schema_before_migrations_each_by_number() -> None:
    order = select_files({
        "migrations": ["010_c.sql", "002_b.sql", "README.md"],
        "schema": ["01_tenants.sql", "00_base.sql"],
    })
    assert [f"{d}/{n}" for d, n, _ in order] == [
        "schema/00_base.sql", "schema/01_tenants.sql",
        "migrations/002_b.sql", "migrations/010_c.sql"]


def test_numbers_sort_numerically_not_as_text() -> None:
    order = select_files({"migrations": ["1000_z.sql", "999_y.sql"]})
    assert [n for _, n, _ in order] == ["999_y.sql", "1000_z.sql"]


def test_duplicate_numbers_name_both_files() -> None:
    with pytest.raises(MigrationFileError) as err:
        select_files({"migrations": ["002_a.sql", "002_b.sql"]})
    assert "migrations/002_a.sql" in str(err.value)
    assert "migrations/002_b.sql" in str(err.value)
    assert "renumber" in str(err.value)


@pytest.mark.parametrize("name", ["2_short.sql", "002-dash.sql", "002_Upper.sql", "abc.sql",
                                  "002_.sql", "002_a b.sql"])
def test_bad_names_are_refused_with_the_pattern(name: str) -> None:
    with pytest.raises(MigrationFileError) as err:
        select_files({"migrations": [name]})
    assert f"migrations/{name}" in str(err.value)
    assert "NNN_name.sql" in str(err.value)


def test_non_sql_files_are_ignored() -> None:
    assert select_files({"migrations": ["README.md", "notes.txt"]}) == []


def test_checksum_ignores_bom_and_crlf() -> None:
    unix = b"create table a (id int);\nselect 1;\n"
    windows = b"\xef\xbb\xbfcreate table a (id int);\r\nselect 1;\r\n"
    assert normalise(windows) == unix
    assert checksum(unix) == checksum(windows)
    assert checksum(unix) != checksum(unix + b"-- edit\n")
    assert len(checksum(unix)) == 64 and checksum(unix) == checksum(unix).lower()


def test_directory_digest_depends_on_every_pair_not_order() -> None:
    a = [("schema/00_a.sql", "1" * 64), ("migrations/001_b.sql", "2" * 64)]
    assert directory_digest(a) == directory_digest(list(reversed(a)))
    assert directory_digest(a) != directory_digest(a[:1])


def test_directives_only_in_header() -> None:
    assert parse_directives("f", b"-- header\n-- storedb:no-transaction\nselect 1;\n") == {
        "no-transaction"}
    assert parse_directives("f", b"select 1;\n-- storedb:no-transaction\n") == frozenset()


def test_unknown_directive_names_file_and_line() -> None:
    with pytest.raises(MigrationFileError) as err:
        parse_directives("migrations/003_x.sql", b"-- a\n-- storedb:no-transacton\nselect 1;")
    assert "migrations/003_x.sql:2" in str(err.value)
    assert "no-transaction" in str(err.value)


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "00_a.sql").write_bytes(b"select 1;\nselect '\xff';\n")
    with pytest.raises(MigrationFileError) as err:
        load_directory(tmp_path)
    assert "schema/00_a.sql:2:9" in str(err.value)
    assert "UTF-8" in str(err.value)


def test_next_migration_number() -> None:
    assert next_migration_name(["001_a.sql", "007_b.sql", "x.md"], "Add Invoices!") == \
        "008_add_invoices.sql"
    assert next_migration_name([], "first") == "001_first.sql"


def test_checksum_cache_never_hides_an_edit(tmp_path: Path) -> None:
    import os

    from storedb.runner._files import checksums

    path = tmp_path / "migrations" / "001_a.sql"
    path.parent.mkdir()
    path.write_text("select 1;\n")
    first = checksums(tmp_path)
    path.write_text("select 2;\n")  # same size, within the same second
    assert checksums(tmp_path) != first
    os.utime(path, ns=(10**18, 10**18))  # settled long ago: now it is cached
    cached = checksums(tmp_path)
    path.write_text("select 3;\n")
    os.utime(path, ns=(10**18, 10**18))  # same size, same mtime: only ctime tells
    assert checksums(tmp_path) != cached
    assert checksums(tmp_path)[0][1] == checksum(b"select 3;\n")
