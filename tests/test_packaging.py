"""An application that installs the built wheel (not a checkout) migrates with the shipped SQL."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, history


@pytest.mark.shipped_schema
@pytest.mark.slow  # builds and installs a wheel
def test_wheel_ships_sql_and_migrates_from_it(empty_dsn: str, tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("storedb-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "storedb/py.typed" in names
    assert "storedb/sql/schema/00_base.sql" in names
    assert "storedb/sql/migrations/003_enable_row_level_security.sql" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    app = tmp_path / "app"  # an application folder: no infra/db here
    app.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("STOREDB_DIR", "DATABASE_URL")}
    env["PYTHONPATH"] = str(target)
    script = ("import storedb, sys\n"
              "assert storedb.__file__.startswith(sys.argv[2]), storedb.__file__\n"
              "r = storedb.migrate(sys.argv[1])\n"
              "print(len(r.applied))\n")
    out = subprocess.run([sys.executable, "-c", script, empty_dsn, str(target)], cwd=app,
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    shipped = len([p for p in (ROOT / "infra/db").glob("*/*.sql") if p.parent.name != "seed"])
    assert int(out.stdout) == shipped
    assert len(history(empty_dsn)) == shipped
