"""The public face: one table of exports, and nothing heavy loaded by ``import storedb``."""

from __future__ import annotations

import ast
import subprocess
import sys

import storedb
from tests.helpers import ROOT


def test_every_export_resolves_and_all_follows_the_table() -> None:
    assert storedb.__all__ == sorted(storedb._EXPORTS)
    for name in storedb.__all__:
        assert getattr(storedb, name) is not None, name


def test_type_checking_imports_match_the_export_table() -> None:
    """mypy reads the TYPE_CHECKING imports; users read _EXPORTS: they must name the same things."""
    tree = ast.parse((ROOT / "storedb" / "__init__.py").read_text())
    imported = {alias.asname or alias.name for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) for alias in node.names
                if node.module not in ("__future__", "typing", None)}
    imported.discard("importlib")
    assert imported == set(storedb._EXPORTS)


def test_unknown_names_raise_attribute_error() -> None:
    try:
        storedb.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("storedb.no_such_thing resolved")


def test_import_storedb_loads_neither_click_nor_psycopg_nor_the_local_cluster() -> None:
    code = ("import sys, storedb; "
            "print(sorted(m for m in ('click', 'psycopg', 'storedb._local') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    assert out == "[]"


def test_no_public_module_is_named_like_a_function_it_exports() -> None:
    """The old trap: importing ``storedb.baseline`` (the module) replaced ``storedb.baseline``."""
    import storedb.runner
    import storedb.tenancy

    for package in (storedb.runner, storedb.tenancy):
        for name in package.__all__:
            assert not hasattr(getattr(package, name), "__path__"), name
    assert callable(storedb.baseline) and callable(storedb.seed)
