"""Splitting files into statements with their positions; refusals before anything runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storedb.errors import MigrationFileError
from storedb.runner._files import MigrationFile, checksum
from storedb.runner._statements import needs_no_transaction, split


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
