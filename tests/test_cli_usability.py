"""What a new user types: files as `new` prints them, -q/-v everywhere, help texts,
`new --dir` that does not exist."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from storedb.cli import main
from storedb.runner._files import file_name
from tests.helpers import history, run_cli

FILES = {"schema/00_base.sql": "create table base (id int);\n",
         "migrations/001_one.sql": "create table one (id int);\n",
         "migrations/002_two.sql": "create table two (id int);\n"}


def test_file_name_accepts_every_spelling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    root = tmp_path / "infra" / "db"
    (root / "migrations").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    want = "migrations/007_x.sql"
    for given in (want, "infra/db/migrations/007_x.sql", "./infra/db/migrations/007_x.sql",
                  str(root / "migrations" / "007_x.sql")):
        assert file_name(given, Path("infra/db")) == want, given
    monkeypatch.chdir(root / "migrations")
    assert file_name("007_x.sql", root) == want  # relative to where the user stands
    assert file_name("/nowhere/007_x.sql", root) == "/nowhere/007_x.sql"  # left to say so


def test_target_diff_accept_and_baseline_take_the_path_new_prints(
        empty_dsn: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    for name, text in FILES.items():
        (project / "infra" / "db" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "infra" / "db" / name).write_text(text)
    printed = "infra/db/migrations/001_one.sql"
    assert run_cli("migrate", "--target", printed, "--dsn", empty_dsn, cwd=project).code == 0
    assert [h[0] for h in history(empty_dsn)] == ["migrations/001_one.sql",
                                                  "schema/00_base.sql"]
    (project / printed).write_text("create table one (id int); -- edited\n")
    absolute = str(project / printed)
    diff = run_cli("diff", absolute, "--dsn", empty_dsn, cwd=project)
    assert diff.code == 0 and "-- edited" in diff.out
    accept = run_cli("accept", printed, "--reason", "comment", "--dsn", empty_dsn, cwd=project)
    assert accept.code == 0, accept.err
    baseline = run_cli("baseline", "--through", "infra/db/migrations/002_two.sql", "--force",
                       "--dsn", empty_dsn, cwd=project)
    assert baseline.code == 0 and "recorded migrations/002_two.sql" in baseline.out


def test_new_refuses_a_dir_that_does_not_exist(tmp_path: Path) -> None:
    missing = run_cli("new", "x", "--dir", str(tmp_path / "db"), "-q")
    assert missing.code == 2 and "does not exist" in missing.err
    assert not (tmp_path / "db").exists()
    (tmp_path / "db").mkdir()
    first = run_cli("new", "x", "--dir", str(tmp_path / "db"))
    assert first.code == 0 and first.out.strip().endswith("migrations/001_x.sql")
    assert "creating" in first.err and "first migration" in first.err


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update(_commands(command, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = command
    return found


@pytest.mark.parametrize("name", sorted(_commands(main)))
def test_every_command_takes_q_and_v(name: str) -> None:
    options = {o for p in _commands(main)[name].params for o in getattr(p, "opts", [])}
    assert {"-q", "-v"} <= options, name


def test_help_texts() -> None:
    runner = CliRunner()
    top = runner.invoke(main, ["--help"]).output
    assert "130" in top and "143" in top
    baseline = runner.invoke(main, ["baseline", "--help"]).output
    assert "--through FILE" in baseline
    for name in ("status", "check", "diff", "seed"):
        text = runner.invoke(main, [name, "--help"]).output
        assert "several" not in text, name
    url = runner.invoke(main, ["local", "url", "--help"]).output
    assert "starts the cluster" in url and "--app" in url
