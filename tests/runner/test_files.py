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


# --- file names (the patterns, their anchors and character classes) ---------------------------

def names_of(listing: dict[str, list[str]]) -> list[tuple[str, str, int]]:
    return select_files(listing)


@pytest.mark.parametrize("folder, name, number", [
    ("schema", "02_order_items.sql", 2), ("schema", "00_a1.sql", 0), ("schema", "99_9.sql", 99),
    ("migrations", "006_add_v2.sql", 6), ("migrations", "0042_x.sql", 42),
    ("migrations", "123_a_b_c.sql", 123), ("migrations", "007_2fa.sql", 7),
])
def test_valid_names_with_digits_and_underscores_are_accepted(folder: str, name: str,
                                                              number: int) -> None:
    assert select_files({folder: [name]}) == [(folder, name, number)]


@pytest.mark.parametrize("folder, name, expected", [
    ("schema", "1_x.sql", "NN_name.sql, e.g. 00_base.sql"),
    ("schema", "001_x.sql", "NN_name.sql, e.g. 00_base.sql"),
    ("schema", "00_x.sql.sql", "NN_name.sql, e.g. 00_base.sql"),
    ("schema", "00_X.sql", "NN_name.sql, e.g. 00_base.sql"),
    ("migrations", "02_x.sql", "NNN_name.sql, e.g. 001_add_products_table.sql"),
    ("migrations", "006_x.sql.sql", "NNN_name.sql, e.g. 001_add_products_table.sql"),
    ("migrations", "006__x.sql", "NNN_name.sql, e.g. 001_add_products_table.sql"),
    ("migrations", "x006_a.sql", "NNN_name.sql, e.g. 001_add_products_table.sql"),
    ("migrations", "006_a-b.sql", "NNN_name.sql, e.g. 001_add_products_table.sql"),
])
def test_names_off_the_pattern_are_refused_exactly(folder: str, name: str, expected: str) -> None:
    with pytest.raises(MigrationFileError) as err:
        select_files({folder: [name]})
    assert str(err.value) == (
        "bad migration file names (nothing was applied):\n"
        f"  {folder}/{name}: name does not match {expected} "
        "(lower-case letters, digits and underscores)")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(MigrationFileError) as err:
        select_files({"schema": ["1_a.sql", "01_b.sql", "01_a.sql"],
                      "migrations": ["02_x.sql", "003_b.sql", "003_a.sql", "004_ok.sql"]})
    assert str(err.value).splitlines() == [
        "bad migration file names (nothing was applied):",
        "  schema/1_a.sql: name does not match NN_name.sql, e.g. 00_base.sql (lower-case "
        "letters, digits and underscores)",
        "  schema: number 1 is used by schema/01_a.sql, schema/01_b.sql — renumber all but one"
        " (storedb new picks a free number)",
        "  migrations/02_x.sql: name does not match NNN_name.sql, e.g. "
        "001_add_products_table.sql (lower-case letters, digits and underscores)",
        "  migrations: number 3 is used by migrations/003_a.sql, migrations/003_b.sql — "
        "renumber all but one (storedb new picks a free number)",
    ]


def test_three_files_sharing_a_number_are_all_named() -> None:
    with pytest.raises(MigrationFileError) as err:
        select_files({"migrations": ["005_c.sql", "005_a.sql", "5_b.sql", "0005_b.sql"]})
    assert ("migrations: number 5 is used by migrations/0005_b.sql, migrations/005_a.sql, "
            "migrations/005_c.sql") in str(err.value)


def test_only_the_two_known_folders_count() -> None:
    assert select_files({"seed": ["01_x.sql"], "other": ["001_y.sql"]}) == []
    assert select_files({"migrations": ["001_a.sql"]}) == [("migrations", "001_a.sql", 1)]


# --- checksums and the directory digest --------------------------------------------------------

def test_normalise_strips_only_a_leading_bom_and_only_crlf() -> None:
    assert normalise(b"\xef\xbb\xbfa\r\nb") == b"a\nb"
    assert normalise(b"a\xef\xbb\xbf") == b"a\xef\xbb\xbf"  # not at the start: data
    assert normalise(b"a\rb\r") == b"a\rb\r"  # a lone CR is not a line ending we rewrite
    assert normalise(b"a\r\r\nb") == b"a\r\nb"
    assert normalise(b"") == b""


def test_checksum_is_the_sha256_of_the_normalised_bytes() -> None:
    import hashlib

    assert checksum(b"\xef\xbb\xbfselect 1;\r\n") == hashlib.sha256(b"select 1;\n").hexdigest()


def test_directory_digest_is_the_one_postgresql_computes() -> None:
    import hashlib

    # history_digest() computes sha256 of the sorted "name checksum" lines joined by \n
    pairs = [("schema/00_b.sql", "bb"), ("migrations/001_a.sql", "aa")]
    assert directory_digest(pairs) == hashlib.sha256(
        b"migrations/001_a.sql aa\nschema/00_b.sql bb").hexdigest()
    assert directory_digest([]) == hashlib.sha256(b"").hexdigest()


# --- header directives ---------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"-- migrations/004_x.sql\n--\n-- storedb:no-transaction\nselect 1;\n",
    b"-- purpose\n\n-- storedb:no-transaction\ncreate index concurrently i on t (x);\n",
    b"\n\n-- storedb:no-transaction\nselect 1;\n",
    b"   --storedb:no-transaction   \nselect 1;\n",
    b"-- storedb: no-transaction\nselect 1;",
    b"-- storedb:no-transaction",
])
def test_directive_anywhere_in_the_header_blank_lines_included(data: bytes) -> None:
    assert parse_directives("f", data) == frozenset({"no-transaction"})


@pytest.mark.parametrize("data", [
    b"select 1;\n-- storedb:no-transaction\n",
    b"-- header\n/* block */\n-- storedb:no-transaction\n",
    b"-- a plain comment\nselect 1; -- storedb:no-transaction\n",
    b"-- not a directive: storedb:no-transaction\n",
])
def test_directive_after_the_header_or_inside_a_line_is_ignored(data: bytes) -> None:
    assert parse_directives("f", data) == frozenset()


def test_a_directive_line_followed_by_words_is_a_plain_comment() -> None:
    # the file stays transactional, so CONCURRENTLY in it is refused with a pointer to the
    # directive's exact form
    assert parse_directives("f", b"-- storedb:no-transaction because of the index\n") == set()


def test_a_directive_that_is_not_utf8_is_quoted_readably() -> None:
    with pytest.raises(MigrationFileError) as err:
        parse_directives("f", b"-- storedb:no-\xfftransaction\n")
    assert str(err.value).startswith("f:1: unknown directive 'storedb:no-\ufffdtransaction'.")


def test_an_empty_directive_is_refused() -> None:
    with pytest.raises(MigrationFileError) as err:
        parse_directives("f", b"-- storedb:\nselect 1;")
    assert str(err.value) == "f:1: unknown directive 'storedb:'. Known directives: no-transaction."


def test_unknown_directive_message_and_location() -> None:
    with pytest.raises(MigrationFileError) as err:
        parse_directives("migrations/003_x.sql", b"-- a\n\n  -- storedb:transaction \nselect 1;")
    assert str(err.value) == ("migrations/003_x.sql:3: unknown directive 'storedb:transaction'. "
                              "Known directives: no-transaction.")
    assert (err.value.file, err.value.line, err.value.column) == ("migrations/003_x.sql", 3, None)


def test_a_file_knows_whether_it_runs_in_a_transaction(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_a.sql").write_bytes(b"-- x\n\n-- storedb:no-transaction\n"
                                                         b"select 1;\r\n")
    (tmp_path / "migrations" / "002_b.sql").write_bytes(b"\xef\xbb\xbfselect '\xc3\xa9';\n")
    a, b = load_directory(tmp_path)
    assert (a.name, a.folder, a.number, a.path) == ("migrations/001_a.sql", "migrations", 1,
                                                    tmp_path / "migrations" / "001_a.sql")
    assert a.directives == {"no-transaction"} and not a.transactional
    assert a.data.endswith(b"select 1;\r\n") and a.checksum == checksum(a.data)  # runs as is
    assert b.transactional and b.directives == frozenset()
    assert b.text == "select 'é';\n"  # without its BOM
    assert b.checksum == checksum(b"select '\xc3\xa9';\n")


# --- encoding: where the bad byte is --------------------------------------------------------------

@pytest.mark.parametrize("data, line, column, byte", [
    (b"\xff", 1, 1, 0xFF),
    (b"\n\xff", 2, 1, 0xFF),
    (b"\nab\xfe", 2, 3, 0xFE),
    (b"select 1;\n\nselect 'a\xe9';\n", 3, 10, 0xE9),
    (b"\nselect '\xc3\xa9';\n-- ok\nselect 2; select '\xc3';\n", 4, 19, 0xC3),
    (b"a\nbb\nccc\ndddd\xfe\n", 4, 5, 0xFE),
])
def test_non_utf8_points_at_the_byte(tmp_path: Path, data: bytes, line: int, column: int,
                                     byte: int) -> None:
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "00_a.sql").write_bytes(data)
    with pytest.raises(MigrationFileError) as err:
        load_directory(tmp_path)
    assert str(err.value) == (
        f"schema/00_a.sql:{line}:{column}: the file is not valid UTF-8 (byte 0x{byte:02x}). "
        "Save it as UTF-8 (without changing an applied file's meaning).")
    assert (err.value.file, err.value.line, err.value.column) == ("schema/00_a.sql", line, column)


# --- the folder: what is found, what is refused ---------------------------------------------

def test_scan_refuses_a_missing_root_and_a_root_without_folders(tmp_path: Path) -> None:
    from storedb.errors import UsageError
    from storedb.runner._files import scan

    with pytest.raises(UsageError) as err:
        scan(tmp_path / "nope")
    assert str(err.value) == (
        f"SQL directory {tmp_path / 'nope'} does not exist (or is not a directory). Pass --dir "
        "or set STOREDB_DIR to the folder that holds schema/ and migrations/.")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="does not exist"):
        scan(tmp_path / "file")
    (tmp_path / "seed").mkdir()
    with pytest.raises(UsageError) as err:
        scan(tmp_path)
    assert str(err.value) == (f"{tmp_path} holds neither schema/ nor migrations/: is --dir (or "
                              "STOREDB_DIR) pointing at the SQL root, e.g. infra/db?")


def test_scan_finds_files_in_order_with_their_paths(tmp_path: Path) -> None:
    from storedb.runner._files import scan

    (tmp_path / "migrations" / "archive").mkdir(parents=True)  # a sub-folder: ignored
    (tmp_path / "migrations" / "010_b.sql").write_text("select 1;")
    (tmp_path / "migrations" / "009_a.sql").symlink_to(tmp_path / "migrations" / "010_b.sql")
    (tmp_path / "migrations" / "notes.txt").write_text("x")
    assert scan(tmp_path) == [  # only migrations/ exists: fine
        ("migrations", "009_a.sql", 9, str(tmp_path / "migrations" / "009_a.sql")),
        ("migrations", "010_b.sql", 10, str(tmp_path / "migrations" / "010_b.sql"))]


def test_sql_entries_that_are_not_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "schema" / "00_dir.sql").mkdir(parents=True)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "002_gone.sql").symlink_to(tmp_path / "nowhere.sql")
    (tmp_path / "migrations" / "001_ok.sql").write_text("select 1;")
    with pytest.raises(MigrationFileError) as err:
        load_directory(tmp_path)
    assert str(err.value) == (
        "these .sql entries are not regular files (a folder, or a broken or looping link); "
        "nothing was applied:\n  migrations/002_gone.sql\n  schema/00_dir.sql")


def test_a_folder_that_is_a_file_cannot_be_read(tmp_path: Path) -> None:
    from storedb.errors import UsageError

    (tmp_path / "schema").mkdir()
    (tmp_path / "migrations").write_text("not a folder")
    with pytest.raises(UsageError) as err:
        load_directory(tmp_path)
    assert str(err.value) == (f"cannot read {tmp_path / 'migrations'}: Not a directory. It must "
                              "be a readable folder of .sql files.")


# --- storedb new: the file name ---------------------------------------------------------------

@pytest.mark.parametrize("slug, expected", [
    ("add_v2", "001_add_v2.sql"), ("Add V2 table", "001_add_v2_table.sql"),
    ("  --orders-- ", "001_orders.sql"), ("2fa", "001_2fa.sql"), ("a__b", "001_a_b.sql"),
    ("café", "001_caf.sql"),
])
def test_new_file_names_keep_letters_and_digits(slug: str, expected: str) -> None:
    assert next_migration_name([], slug) == expected


@pytest.mark.parametrize("slug", ["!!!", "", "___", "é"])
def test_new_refuses_a_name_without_letters_or_digits(slug: str) -> None:
    from storedb.errors import UsageError

    with pytest.raises(UsageError) as err:
        next_migration_name(["001_a.sql"], slug)
    assert str(err.value) == (f"cannot make a file name from {slug!r}: use letters and digits, "
                              "e.g. storedb new add_invoices_table")


def test_new_numbers_after_the_highest_valid_migration() -> None:
    assert next_migration_name(["009_a.sql", "02_short.sql", "0999_x.txt", "00_base.sql"],
                               "b") == "010_b.sql"
    assert next_migration_name(["999_a.sql", "1000_b.sql", "12_x.sql"], "c") == "1001_c.sql"
    assert next_migration_name(["02_x.sql", "x.sql"], "c") == "001_c.sql"


def test_upper_case_extensions_are_refused_not_skipped() -> None:
    with pytest.raises(MigrationFileError) as err:
        select_files({"migrations": ["001_ok.sql", "002_x.SQL", "notes.txt"],
                      "schema": ["00_a.Sql"]})
    assert str(err.value).splitlines() == [
        "bad migration file names (nothing was applied):",
        "  schema/00_a.Sql: storedb reads only names ending in lower-case '.sql', not '.Sql': "
        "rename it",
        "  migrations/002_x.SQL: storedb reads only names ending in lower-case '.sql', not "
        "'.SQL': rename it",
    ]


def test_links_that_loop_and_folders_named_sql_are_refused(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_ok.sql").write_text("select 1;")
    (tmp_path / "migrations" / "002_loop.sql").symlink_to(tmp_path / "migrations" / "002_loop.sql")
    (tmp_path / "migrations" / "003_DIR.SQL").mkdir()
    with pytest.raises(MigrationFileError) as err:
        load_directory(tmp_path)
    assert str(err.value).splitlines()[1:] == ["  migrations/002_loop.sql",
                                               "  migrations/003_DIR.SQL"]
