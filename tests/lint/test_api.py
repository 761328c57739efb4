"""The library face of lint: ``storedb.lint`` stays callable whatever was imported first."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT, SQL_DIR


def test_storedb_lint_is_callable_even_after_importing_the_package() -> None:
    code = ("import storedb.lint, storedb; "
            f"r = storedb.lint(all_files=True, directory={str(SQL_DIR)!r}); "
            "from storedb import Finding, LintResult, lint; "
            "print(r.ok, isinstance(r, LintResult), callable(lint))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    assert out == "True True True"


def test_lint_needs_a_database_only_for_pending_files(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import storedb

    for name in [n for n in os.environ if n == "DATABASE_URL" or n.startswith("PG")]:
        monkeypatch.delenv(name)
    with pytest.raises(storedb.ConnectError):
        storedb.lint(directory=SQL_DIR)  # pending: the history is needed, and none is given
