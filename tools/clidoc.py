"""The README's command reference and lint rule table, generated so they cannot rot.

``python -m tools.clidoc README.md`` rewrites the blocks between the markers
(the reference from ``--help``, the rule table from ``storedb.lint.RULES``);
a test fails when the README and the code disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

from storedb.cli import main

START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"
RULES_START, RULES_END = "<!-- lint-rules:start -->", "<!-- lint-rules:end -->"


def render_rules() -> str:
    from storedb.lint import RULES

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| rule | severity | what | why | safe rewrite | closest squawk rule |",
             "|---|---|---|---|---|---|"]
    lines += [f"| `{r.id}` | {r.severity} | {cell(r.what)} | {cell(r.why)} | {cell(r.fix)} | "
              f"{r.squawk or '-'} |" for r in RULES.values()]
    return "\n".join(lines) + "\n"


def render() -> str:
    runner = CliRunner()
    parts = []

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name in sorted(group.commands):
            command = group.commands[name]
            args = [*prefix, name]
            text = runner.invoke(main, [*args, "--help"], prog_name="storedb",
                                 terminal_width=100).output
            parts.append(f"### `storedb {' '.join(args)}`\n\n```text\n{text.rstrip()}\n```\n")
            if isinstance(command, click.Group):
                walk(command, args)

    walk(main, [])
    return "\n".join(parts)


def replace_block(readme: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    readme = f"{head}{START}\n{render()}{END}{tail}"
    if RULES_START in readme:
        head, rest = readme.split(RULES_START, 1)
        _, tail = rest.split(RULES_END, 1)
        readme = f"{head}{RULES_START}\n{render_rules()}{RULES_END}{tail}"
    return readme


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(replace_block(path.read_text()))
