"""Docs that cannot rot: the README's command reference is the commands' own --help."""

from __future__ import annotations

from tests.helpers import ROOT
from tools.clidoc import replace_block


def test_readme_command_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert replace_block(readme) == readme, (
        "README.md's command reference is stale: run python -m tools.clidoc README.md")


def test_readme_documents_every_exit_code_and_both_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    for needle in ("make run", "make test", "| 0 |", "| 1 |", "| 2 |", "| 3 |",
                   "-- storedb:no-transaction", "tenant_scope"):
        assert needle in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
