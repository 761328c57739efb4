"""The README's command reference, generated from ``--help`` so it cannot rot.

``python -m tools.clidoc README.md`` rewrites the block between the
markers; a test fails when the README and the commands disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

from storedb.cli import main

START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


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
    return f"{head}{START}\n{render()}{END}{tail}"


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(replace_block(path.read_text()))
