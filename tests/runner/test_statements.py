"""Splitting files into statements with their positions; refusals before anything runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storedb.errors import MigrationFileError
from storedb.runner._files import MigrationFile, checksum
from storedb.runner._statements import (
    Statement,
    is_transaction_control,
    needs_no_transaction,
    position,
    split,
)


def f(body: str, name: str = "migrations/001_x.sql") -> MigrationFile:
    return MigrationFile(name, "migrations", 1, Path(name), body.encode(),
                         checksum(body.encode()))


def test_split_respects_quotes_comments_and_dollar_quotes() -> None:
    body = """-- header; not a statement
create table "semi;colon" (id int); /* block; comment */
insert into "semi;colon" values (1), (length('a;b')), (length(E'it\\'s;'));
create function f() returns int language plpgsql as $body$
begin
    return 1; -- inner;
end
$body$;
do $$ begin perform 1; end $$;
"""
    statements = split(f(body))
    assert len(statements) == 4
    assert [s.line for s in statements] == [2, 3, 4, 9]
    assert statements[0].text.startswith('create table "semi;colon"')
    assert "$body$;" not in statements[2].text and statements[2].text.endswith("$body$")


def test_begin_atomic_body_is_one_statement() -> None:
    body = ("create function g() returns int language sql begin atomic select 1; select 2; end;"
            "\nselect 3;")
    assert len(split(f(body))) == 2


def test_syntax_error_points_at_line_and_column() -> None:
    with pytest.raises(MigrationFileError) as err:
        split(f("select 1;\n\ncreate tabel x (id int);\n"))
    assert "migrations/001_x.sql:3:8" in str(err.value)
    assert "syntax error" in str(err.value)
    assert (err.value.line, err.value.column) == (3, 8)


@pytest.mark.parametrize("body, what", [
    ("select 'abc;\n", "unterminated quoted string"),
    ("select $tag$ abc $tog$;\n", "unterminated dollar-quoted string"),
    ("select 1; /* never closed\n", "unterminated /* comment"),
])
def test_unterminated_tokens(body: str, what: str) -> None:
    with pytest.raises(MigrationFileError, match=re.escape(what)):
        split(f(body))


def test_psql_meta_command_is_explained() -> None:
    with pytest.raises(MigrationFileError) as err:
        split(f("select 1;\n\\i other.sql\n"))
    assert "migrations/001_x.sql:2:1" in str(err.value)
    assert "psql meta-command" in str(err.value) and "plain SQL" in str(err.value)


def test_comment_only_file_has_no_statements_but_the_template_is_refused() -> None:
    assert split(f("-- Replaced by 000096_other.sql\n\n")) == []
    from storedb.runner._template import header

    with pytest.raises(MigrationFileError, match="still the template"):
        split(f(header("migrations/001_x.sql")))


def test_concurrently_in_transactional_file_names_the_directive() -> None:
    body = "create table t (id int);\ncreate index concurrently t_id_idx on t (id);\n"
    with pytest.raises(MigrationFileError) as err:
        split(f(body))
    assert "statement 2 of 2" in str(err.value)
    assert "-- storedb:no-transaction" in str(err.value)
    assert len(split(f("-- storedb:no-transaction\n" + body))) == 2


def test_transaction_control_is_refused() -> None:
    with pytest.raises(MigrationFileError, match="transaction control"):
        split(f("begin;\ncreate table t (id int);\ncommit;\n"))


@pytest.mark.parametrize("sql", ["CREATE UNIQUE INDEX CONCURRENTLY i ON t (x)", "vacuum analyze t",
                                 "/* c */ drop index concurrently i", "alter system set x = 1",
                                 "reindex table concurrently t", "create database d"])
def test_statements_that_need_no_transaction(sql: str) -> None:
    assert needs_no_transaction(sql)


@pytest.mark.parametrize("sql", ["create index i on t (x)", "select 'vacuum'",
                                 "alter type e add value 'x'", "create table concurrently_t ()"])
def test_statements_fine_in_a_transaction(sql: str) -> None:
    assert not needs_no_transaction(sql)


# --- transaction control: every keyword, any case, after comments -------------------------------

@pytest.mark.parametrize("sql, word", [
    ("begin", "BEGIN"), ("BEGIN;", "BEGIN"), ("Begin Transaction", "BEGIN"),
    ("commit", "COMMIT"), ("COMMIT", "COMMIT"), ("rollback", "ROLLBACK"),
    ("ROLLBACK", "ROLLBACK"), ("end", "END"), ("End", "END"), ("abort", "ABORT"),
    ("ABORT", "ABORT"), ("start transaction", "START"), ("START  TRANSACTION\n", "START"),
    ("savepoint s1", "SAVEPOINT"), ("SAVEPOINT s1", "SAVEPOINT"),
    ("release s1", "RELEASE"), ("RELEASE SAVEPOINT s1", "RELEASE"),
    ("rollback to savepoint s1", "ROLLBACK"),
])
def test_every_transaction_control_statement_is_refused(sql: str, word: str) -> None:
    body = f"create table t (id int);\n  {sql};\n"
    with pytest.raises(MigrationFileError) as err:
        split(f(body))
    assert str(err.value) == (
        f"migrations/001_x.sql:2:3: statement 2 of 2 is transaction control ({word}). storedb "
        "runs each file in its own transaction (or statement by statement under "
        "'-- storedb:no-transaction'): remove it.")
    assert (err.value.file, err.value.line, err.value.column) == ("migrations/001_x.sql", 2, 3)
    with pytest.raises(MigrationFileError, match="transaction control"):
        split(f("-- storedb:no-transaction\n" + body))  # not even statement by statement


@pytest.mark.parametrize("sql", ["prepare transaction 'x'", "PREPARE  TRANSACTION 'x'",
                                 "/**/ commit", "--\nrollback", "/* first */ commit",
                                 "-- why\nCOMMIT", "  rollback  ",
                                 "/* a\nb */ end"])
def test_transaction_control_after_a_comment(sql: str) -> None:
    assert is_transaction_control(sql)


@pytest.mark.parametrize("sql", ["begin atomic select 1; end", "BEGIN ATOMIC", "select 'commit'",
                                 "comment on table t is 'x'", "create table begin_log ()",
                                 "reset role", "analyze t", "starttransaction", "commitment",
                                 "ending", "released", "aborted", "savepoints", "rollbacks",
                                 "beginning"])
def test_not_transaction_control(sql: str) -> None:
    assert not is_transaction_control(sql)


# --- statements that cannot run in a transaction ---------------------------------------------

@pytest.mark.parametrize("sql", [
    "create index concurrently i on t (x)", "CREATE INDEX CONCURRENTLY i ON t (x)",
    "create unique index concurrently i on t (x)", "drop index concurrently i",
    "Drop Index Concurrently If Exists i", "reindex table concurrently t",
    "reindex table\n  concurrently t", "REINDEX INDEX CONCURRENTLY i", "vacuum",
    "VACUUM (analyze) t",
    "create database d", "drop database d", "CREATE TABLESPACE s LOCATION '/x'",
    "drop tablespace s", "alter system set work_mem = '1MB'", "ALTER SYSTEM RESET ALL",
    "alter table p detach partition c concurrently", "ALTER TABLE p\n DETACH PARTITION c\n"
    " CONCURRENTLY", "create /* why */ index concurrently i on t (x)",
    "create -- why\n index concurrently i on t (x)", "create /* a\n b */ index /* c */ "
    "concurrently i on t (x)", "/* leading */ vacuum t", "-- leading\ndrop database d",
    "create /**/ index concurrently i on t (x)", "create --\n index concurrently i on t (x)",
])
def test_needs_no_transaction(sql: str) -> None:
    assert needs_no_transaction(sql)


@pytest.mark.parametrize("sql", [
    "create index i on t (x)", "select 'vacuum'", "create table concurrently_t ()",
    "alter table p detach partition c", "alter table p detach partition c finalize",
    "reindex table t", "create /* index concurrently */ table t ()",
    "create table t (); -- index concurrently", "comment on database d is 'x'",
    "alter table t rename to database_t", "create databases", "drop tablespaces",
    "alter systems", "vacuumed", "create role database",
    # keywords count only as whole words: identifiers that contain them are no keywords
    "reindex table myconcurrently", "alter table p detach partition p_concurrently",
    "alter table p detach partitions concurrently", "alter table t_detach partition c concurrently",
    "alter tablex detach partition c concurrently", "reindexes table concurrently t",
    "createindex concurrently i on t (x)", "create uniqueindex concurrently i on t (x)",
    "create indexconcurrently i on t (x)", "dropindex concurrently i", "drop indexconcurrently i",
    "dropdatabase d", "altersystem set x = 1", "altertable p detach partition c concurrently",
    "alter table p detachpartition c concurrently",
    # ... and an index or table whose name starts with the keyword is just a name
    "create index concurrently_idx on t (x)", "create unique index concurrently_idx on t (x)",
    "drop index concurrently_idx", "reindex index concurrently_idx",
    "alter table p detach partition concurrently_p",
])
def test_fine_in_a_transaction(sql: str) -> None:
    assert not needs_no_transaction(sql)


def test_a_statement_naming_every_hint_word_is_still_refused() -> None:
    # the quick pre-check looks for any of the words; a statement holding all of them must
    # still reach the full check
    assert "cannot run inside a transaction" in refusal(
        "create index concurrently i on t (vacuum, database, tablespace, system);\n")


def test_a_long_statement_shows_its_first_three_lines() -> None:
    body = ("create table t (id int);\n"
            "create index concurrently i\n    on t\n    using btree\n    (id);\n")
    with pytest.raises(MigrationFileError) as err:
        split(f(body))
    assert str(err.value) == (
        "migrations/001_x.sql:2:1: statement 2 of 2 cannot run inside a transaction:\n"
        "    create index concurrently i\n    on t\n    using btree\n...\n"
        "Put it in a file of its own whose header has the line '-- storedb:no-transaction' "
        "(see infra/db/README.md). Nothing was applied.")
    assert (err.value.line, err.value.column) == (2, 1)
    with pytest.raises(MigrationFileError) as err:
        split(f("vacuum\n  (analyze)\n  t;\n"))
    assert "transaction:\n    vacuum\n  (analyze)\n  t\nPut it" in str(err.value)  # 3: all
    with pytest.raises(MigrationFileError) as err:
        split(f("vacuum\n  t;\n"))
    assert "transaction:\n    vacuum\n  t\nPut it" in str(err.value)


# --- positions ----------------------------------------------------------------------------------

def test_statements_know_where_they_start() -> None:
    text = "\n\n  select 1;  select\n2;\n-- c\n\tselect 3"
    assert split(f(text)) == [
        Statement(1, "select 1", 4, 3, 3),
        Statement(2, "select\n2", 15, 3, 14),
        Statement(3, "select 3", 31, 6, 2),
    ]


@pytest.mark.parametrize("text, offset, expected", [
    ("abc", 0, (1, 1)), ("abc", 2, (1, 3)), ("a\nbc", 2, (2, 1)), ("a\nbc", 3, (2, 2)),
    ("\n\n\nx", 3, (4, 1)), ("ab\ncd\nef", 7, (3, 2)), ("\nab", 2, (2, 2)), ("\nab", 0, (1, 1)),
    ("\n", 1, (2, 1)),
])
def test_position_is_one_based(text: str, offset: int, expected: tuple[int, int]) -> None:
    assert position(text, offset) == expected


def test_syntax_error_quotes_the_line_and_points_at_the_column() -> None:
    with pytest.raises(MigrationFileError) as err:
        split(f("\n\ncreate table a (id int);\n  create tabel x (id int);\n"))
    assert str(err.value) == (
        'migrations/001_x.sql:4:10: syntax error: syntax error at or near "tabel"\n'
        "      create tabel x (id int);\n"
        "             ^\n"
        "Nothing was applied.")
    assert (err.value.file, err.value.line, err.value.column) == ("migrations/001_x.sql", 4, 10)


def test_syntax_error_on_the_first_line() -> None:
    with pytest.raises(MigrationFileError) as err:
        split(f("selec 1;"))
    assert str(err.value) == ('migrations/001_x.sql:1:1: syntax error: syntax error at or near '
                              '"selec"\n    selec 1;\n    ^\nNothing was applied.')


def test_unterminated_string_message_says_how_to_fix_it() -> None:
    with pytest.raises(MigrationFileError) as err:
        split(f("select 1;\nselect 'abc;\n\n"))
    assert str(err.value) == (
        "migrations/001_x.sql:2:8: syntax error: unterminated quoted string at or near "
        "\"'abc; \"\n    select 'abc;\n           ^\n"
        "Close the quote or comment that starts here.\nNothing was applied.")


def test_meta_command_message_quotes_it() -> None:
    with pytest.raises(MigrationFileError) as err:
        split(f("select 1;\n\n  \\set ON_ERROR_STOP on\nselect 2;\n"))
    assert str(err.value) == (
        "migrations/001_x.sql:3:3: \\set is a psql meta-command; storedb runs plain SQL, not "
        "psql scripts.\n      \\set ON_ERROR_STOP on\n      ^\n"
        "Inline the SQL it would run (or make it a migration of its own).")
    assert (err.value.line, err.value.column) == (3, 3)


def test_a_file_of_comments_only_is_a_no_op_unless_it_is_the_template() -> None:
    from storedb.runner._template import header

    for body in ("", "\n\n", "-- only a comment\n/* and this */\n", ";\n;"):
        assert split(f(body)) == []
    with pytest.raises(MigrationFileError) as err:
        split(f(header("migrations/001_x.sql")))
    assert str(err.value) == (
        "migrations/001_x.sql: the file is still the template 'storedb new' wrote: it holds no "
        "SQL statement. Write the migration, or delete the file if it is not applied yet.")
    assert (err.value.file, err.value.line, err.value.column) == ("migrations/001_x.sql", 1, 1)


@pytest.mark.parametrize("body, where, line", [
    ("select (1", "1:10", "select (1"),
    ("create table t (id int);\ncreate table u (\n\n", "2:17", "create table u ("),
])
def test_syntax_error_at_the_end_of_the_file(body: str, where: str, line: str) -> None:
    with pytest.raises(MigrationFileError) as err:
        split(f(body))
    message = str(err.value)
    assert message.startswith(f"migrations/001_x.sql:{where}: syntax error: syntax error at "
                              f"end of input\n    {line}\n")
    assert "Nothing was applied." in message


# --- what psql would do differently: refused with the remedy ------------------------------------

def refusal(body: str) -> str:
    with pytest.raises(MigrationFileError) as err:
        split(f(body))
    return str(err.value)


@pytest.mark.parametrize("body, where, words", [
    ("create table a (x int);\nprepare transaction 'x';\n", "2:1", "PREPARE TRANSACTION"),
    ("select 1;\n  COMMIT PREPARED 'x';\n", "2:3", "COMMIT PREPARED"),
    ("Rollback Prepared 'x';", "1:1", "ROLLBACK PREPARED"),
])
def test_two_phase_commit_is_refused(body: str, where: str, words: str) -> None:
    total = body.count(";")
    index = total
    assert refusal(body) == (
        f"migrations/001_x.sql:{where}: statement {index} of {total} is two-phase commit "
        f"({words}). A prepared transaction would hold the file's work outside storedb's "
        "transaction while the history says it is applied: remove it.")


@pytest.mark.parametrize("body, stream", [
    ("create table t (x int);\ncopy t (x) from stdin;\n", "FROM STDIN"),
    ("copy (select 1) to stdout;", "TO STDOUT"),
    ("COPY t FROM STDIN WITH (format csv)", "FROM STDIN"),
])
def test_copy_through_psqls_streams_is_refused(body: str, stream: str) -> None:
    message = refusal(body)
    assert message.endswith(
        f"is COPY ... {stream}, which psql feeds from the lines of the file (or prints); storedb "
        "runs plain SQL and has no such stream. Turn the data into INSERT ... VALUES statements "
        "(pg_dump --inserts writes them), or COPY from a file on the server.")


@pytest.mark.parametrize("body", ["copy t from '/tmp/x.csv'", "copy t to '/tmp/x.csv'",
                                  "copy t from program 'cat x'", "select 'copy t from stdin'",
                                  "create table copy_log (x int)"])
def test_copy_with_a_server_file_is_fine(body: str) -> None:
    assert len(split(f(body))) == 1


def test_inline_copy_data_is_named_as_such() -> None:
    assert refusal("create table t (x int);\ncopy t from stdin;\n1\t2\nfoo bar\n") == (
        'migrations/001_x.sql:3:1: syntax error: syntax error at or near "1", in what looks like '
        "inline COPY data: COPY ... FROM STDIN with its data in the file is a psql feature; "
        "storedb runs plain SQL.\n    1\t2\n    ^\nTurn the data into INSERT ... VALUES statements"
        " (pg_dump --inserts writes them). Nothing was applied.")
    assert refusal("select 1;\n\\.\n") == (
        "migrations/001_x.sql:2:1: inline COPY data (the lines after COPY ... FROM STDIN) is a "
        "psql feature; storedb runs plain SQL.\n    \\.\n    ^\nTurn the data into INSERT ... "
        "VALUES statements (pg_dump --inserts writes them). Nothing was applied.")
    assert "inline COPY data" in refusal("  COPY t (x)\n  FROM stdin;\n\\N\n")
    assert "psql meta-command" in refusal("copy t from '/x';\n\\i y.sql\n")  # not FROM STDIN
    assert "inline COPY" not in refusal("copy t from '/x';\nselect from from;\n")
    assert "inline COPY data" in refusal("\tcopy t from stdin;\n1\tx\n")  # indented by a tab


@pytest.mark.parametrize("lines", [
    "no copy t from stdin here",  # COPY must start its line
    "copyist from stdin", "copy t xfrom stdin", "copy t fromstdin",  # whole words only
    "copy t from stdinx",
])
def test_copy_like_text_before_a_syntax_error_is_not_called_copy_data(lines: str) -> None:
    # the text sits inside a string literal, so only the later typo is an error
    message = refusal(f"select '\n{lines}\n';\nselec 1;\n")
    assert message.startswith("migrations/001_x.sql:4:1: syntax error: syntax error at or near "
                              '"selec"'), message
    assert "COPY" not in message


def test_a_nul_byte_is_located() -> None:
    assert refusal("\x00select 1;").startswith("migrations/001_x.sql:1:1: the file holds a NUL")
    assert refusal("select 1;\nselect 'a\x00b';\n") == (
        "migrations/001_x.sql:2:10: the file holds a NUL byte (0x00), which PostgreSQL cannot "
        "receive in SQL text (psql and the server would stop reading there). Remove it (a text "
        "editor or `tr -d '\\000'`).")


@pytest.mark.parametrize("sql", [
    "set standard_conforming_strings = off", "SET standard_conforming_strings TO 'off'",
    "set session standard_conforming_strings to false", "set local standard_conforming_strings=0",
    "set standard_conforming_strings to \"no\"", "set /* x */ standard_conforming_strings = n",
    "select set_config('standard_conforming_strings', 'off', false)",
    "SELECT SET_CONFIG ( 'standard_conforming_strings' , 'False', true)",
    "select set_config('standard_conforming_strings','off',false)",
    "select set_config('standard_conforming_strings', '', false)",
])
def test_turning_standard_strings_off_is_refused(sql: str) -> None:
    assert refusal(f"select 1;\n{sql};\n") == (
        "migrations/001_x.sql:2:1: statement 2 of 2 turns standard_conforming_strings off, which "
        "changes how the file's later string literals are read; storedb sends the file as one "
        "message and could not run it as psql does. Remove it and write backslash escapes as "
        "E'...' strings.")


@pytest.mark.parametrize("sql", [
    "set standard_conforming_strings = on", "set standard_conforming_strings to 'on'",
    "set standard_conforming_strings = default", "SET standard_conforming_strings TO TRUE",
    "set standard_conforming_strings = 1", "set standard_conforming_strings to yes",
    "set standard_conforming_strings = t", "set standard_conforming_strings to tr",
    "set standard_conforming_strings to tru", "set standard_conforming_strings to y",
    "set standard_conforming_strings to ye", "show standard_conforming_strings",
    "select 'standard_conforming_strings'", "reset standard_conforming_strings",
    "select set_config('standard_conforming_strings', 'on', false)",
    "set standard_conforming_strings_x = off",
    # names that merely contain it parse (the server rejects them when run): not the setting
    "set sessionstandard_conforming_strings = off", "set localstandard_conforming_strings = off",
    "set session localstandard_conforming_strings = off",
    "set standard_conforming_stringsto = off", "set x.standard_conforming_strings = off",
])
def test_standard_strings_left_on_is_fine(sql: str) -> None:
    from storedb.runner._statements import turns_off_standard_strings

    assert not turns_off_standard_strings(sql)


# --- where statements start and end ------------------------------------------------------------

def test_positions_are_characters_not_bytes() -> None:
    assert split(f("select 'é';\nselect 'ü', 1;")) == [
        Statement(1, "select 'é'", 0, 1, 1), Statement(2, "select 'ü', 1", 12, 2, 1)]
    assert refusal("create table é (x int);\ncreate tabel ü ();") == (
        'migrations/001_x.sql:2:8: syntax error: syntax error at or near "tabel"\n'
        "    create tabel ü ();\n           ^\nNothing was applied.")
    assert refusal("select 'é';\ncreate tabel ü ();").startswith("migrations/001_x.sql:2:8:")


def test_a_statement_starts_after_comments_nested_ones_included() -> None:
    first, second = split(f("select 1; /* x /* nested */ y */ -- c\n select 2"))
    assert (second.text, second.offset, second.line, second.column) == ("select 2", 39, 2, 2)
    first, second = split(f("select 1 -- a\n; select 2"))
    assert (first.text, first.end) == ("select 1 -- a", 13)
    assert (second.offset, second.end, second.line, second.column) == (16, 24, 2, 3)


def test_terminated_looks_past_blanks_and_comments() -> None:
    from storedb.runner._statements import terminated

    text = "select 1 /* a; */ -- b;\n  ; select 2 -- end"
    first, second = split(f(text))
    assert terminated(text, first.end) and not terminated(text, second.end)
    assert terminated("x ;", 1) and not terminated("x", 1) and not terminated("x /* ;", 1)


def test_non_ascii_text_splits_and_fails_with_its_own_names() -> None:
    assert split(f("select 'ä' /* é */ ; /* ö */ select 'å'")) == [
        Statement(1, "select 'ä' /* é */", 0, 1, 1), Statement(2, "select 'å'", 29, 1, 30)]
    assert split(f("\n  select 'é'; select 2")) == [
        Statement(1, "select 'é'", 3, 2, 3), Statement(2, "select 2", 15, 2, 15)]
    assert refusal("select 'é';\ncreate table ü ü ü;") == (
        'migrations/001_x.sql:2:16: syntax error: syntax error at or near "ü"\n'
        "    create table ü ü ü;\n                   ^\nNothing was applied.")


def test_every_kind_of_white_space_before_a_statement_is_skipped() -> None:
    assert split(f("select 1;\t\r\n\f\v select 2; -- trailing")) == [
        Statement(1, "select 1", 0, 1, 1), Statement(2, "select 2", 15, 2, 4)]


@pytest.mark.parametrize("text, expected", [
    ("x -- c\n;", True), ("x -- c;", False), ("x --\n--\n ;", True), ("x -- a\n-- b;", False),
    ("x /* a /* b */ c */ ;", True), ("x /* a /* b */ ;", False), ("x /**/;", True),
    ("x /* a */ /* b */\n;", True), ("x /* a */ y;", False), ("x\t\r\n\f\v;", True),
    ("x /* ; */ -- ;\n /* /* ; */ */ ;", True), ("x /* * / ; */;", True),
])
def test_terminated_skips_line_and_nested_block_comments(text: str, expected: bool) -> None:
    from storedb.runner._statements import terminated

    assert terminated(text, 1) is expected


@pytest.mark.parametrize("sql", [
    "alter system set work_mem = '1MB'", "create tablespace s location '/x'",
    "drop tablespace s", "alter table p detach partition c concurrently", "create database d",
    "reindex table concurrently t", "vacuum t", "drop index concurrently i",
])
def test_every_no_transaction_statement_is_refused_in_a_transactional_file(sql: str) -> None:
    assert "statement 2 of 2 cannot run inside a transaction" in refusal(
        f"select 1;\n{sql};\n")
    assert len(split(f(f"-- storedb:no-transaction\nselect 1;\n{sql};\n"))) == 2
