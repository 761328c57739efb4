"""Reading the SQL root from disk: where it is, the checksum cache, unreadable entries.

No database.  Unreadable files are made unreadable for real: as root (tests usually run
as root in containers) ``chmod`` stops nobody, so those cases run in a forked child that
has dropped to the ``nobody`` user.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storedb.errors import MigrationFileError
from storedb.runner import _files
from storedb.runner._files import checksum, checksums, load_directory, resolve_directory
from tests.helpers import ROOT, CliResult, invoke

# --- where the SQL root is: --dir, $STOREDB_DIR, ./infra/db, the SQL shipped with storedb -------


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with an ./infra/db of its own (not the repository's)."""
    (tmp_path / "cwd" / "infra" / "db" / "migrations").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.delenv("STOREDB_DIR", raising=False)
    return tmp_path / "cwd"


def test_dir_beats_storedb_dir_which_beats_infra_db(elsewhere: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_directory(None) == Path("infra/db")
    assert resolve_directory(None).resolve() == elsewhere / "infra" / "db"
    monkeypatch.setenv("STOREDB_DIR", "/app/sql")
    assert resolve_directory(None) == Path("/app/sql")
    assert resolve_directory("/explicit") == Path("/explicit")
    monkeypatch.setenv("STOREDB_DIR", "")  # set but empty: as if unset
    assert resolve_directory(None) == Path("infra/db")


def test_fallback_to_the_shipped_sql_is_announced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)  # no infra/db here
    monkeypatch.delenv("STOREDB_DIR", raising=False)
    with caplog.at_level(logging.INFO, logger="storedb"):
        found = resolve_directory(None)
    assert found == ROOT / "infra" / "db"  # an editable checkout: the repository's SQL
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("storedb", logging.INFO, "no ./infra/db here and no --dir or STOREDB_DIR: using the "
         f"SQL shipped with storedb ({ROOT / 'infra' / 'db'})")]


def test_an_installed_wheel_uses_its_own_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    site = tmp_path / "site-packages" / "storedb"
    (site / "sql" / "schema").mkdir(parents=True)
    (site / "runner").mkdir()
    monkeypatch.setattr(_files, "__file__", str(site / "runner" / "_files.py"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STOREDB_DIR", raising=False)
    with caplog.at_level(logging.INFO, logger="storedb"):
        assert resolve_directory(None) == site / "sql"
    assert f"using the SQL shipped with storedb ({site / 'sql'})" in caplog.text


def test_new_writes_into_storedb_dir_not_the_working_directory(
        elsewhere: Path, tmp_path: Path) -> None:
    app = tmp_path / "app" / "sql"
    (app / "migrations").mkdir(parents=True)
    (app / "migrations" / "004_x.sql").write_text("select 1;")
    result = invoke("new", "add v2", env={"STOREDB_DIR": str(app)})
    assert (result.code, result.out) == (0, f"{app / 'migrations' / '005_add_v2.sql'}\n")
    assert list((elsewhere / "infra" / "db" / "migrations").iterdir()) == []
    local = invoke("new", "add v3")
    assert (local.code, local.out) == (0, "infra/db/migrations/001_add_v3.sql\n")


def test_new_refuses_a_name_it_cannot_use_and_creates_nothing(elsewhere: Path) -> None:
    result = invoke("new", "!!!")
    assert result.code == 2
    assert result.err == ("storedb: error: cannot make a file name from '!!!': use letters and "
                          "digits, e.g. storedb new add_invoices_table\n")
    assert list((elsewhere / "infra" / "db" / "migrations").iterdir()) == []


# --- the checksum cache ------------------------------------------------------------------------


def write(root: Path, count: int, *, age: float = 0.0) -> list[Path]:
    (root / "migrations").mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(1, count + 1):
        path = root / "migrations" / f"{i:03d}_m.sql"
        path.write_text(f"select {i};\n")
        if age:
            then = time.time_ns() - int(age * 1e9)
            os.utime(path, ns=(then, then))
        paths.append(path)
    return paths


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The files under tmp_path that storedb opens."""
    seen: list[str] = []
    real = os.open

    def counting(path: str, *args: int, **kwargs: int) -> int:
        if str(path).startswith(str(tmp_path)):
            seen.append(os.path.basename(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting)
    return seen


def test_settled_files_are_read_once(tmp_path: Path, opened: list[str]) -> None:
    write(tmp_path, 3, age=60)
    first = checksums(tmp_path)
    assert sorted(opened) == ["001_m.sql", "002_m.sql", "003_m.sql"]
    opened.clear()
    assert checksums(tmp_path) == first  # the up-to-date check of every later start-up
    assert opened == []
    assert first == [(f"migrations/00{i}_m.sql", checksum(f"select {i};\n".encode()))
                     for i in (1, 2, 3)]


def test_loading_a_directory_fills_the_cache(tmp_path: Path, opened: list[str]) -> None:
    write(tmp_path, 2, age=60)
    files = load_directory(tmp_path)
    opened.clear()
    assert checksums(tmp_path) == [(f.name, f.checksum) for f in files]
    assert opened == []


def test_a_changed_settled_file_is_read_again(tmp_path: Path, opened: list[str]) -> None:
    (path,) = write(tmp_path, 1, age=60)
    checksums(tmp_path)
    path.write_text("select 10;\n")  # another size
    os.utime(path, ns=(10**18, 10**18))
    opened.clear()
    assert checksums(tmp_path) == [("migrations/001_m.sql", checksum(b"select 10;\n"))]
    assert opened == ["001_m.sql"]


def test_just_written_files_never_enter_the_cache(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """On a filesystem with coarse timestamps two writes in a row share mtime and ctime."""
    (path,) = write(tmp_path, 1)
    coarse = time.time_ns() - 500_000_000  # "now", rounded down by the filesystem
    for name in ("stat", "fstat"):
        real = getattr(os, name)

        def fake(arg: object, *a: object, _real: Callable[..., os.stat_result] = real,
                 **k: object) -> os.stat_result:
            st = _real(arg, *a, **k)
            if isinstance(arg, int) or str(arg).startswith(str(tmp_path)):
                fields = list(st)
                return os.stat_result(fields, {"st_mtime_ns": coarse, "st_ctime_ns": coarse,
                                               "st_atime_ns": coarse})
            return st

        monkeypatch.setattr(os, name, fake)
    assert checksums(tmp_path)[0][1] == checksum(b"select 1;\n")
    path.write_text("select 2;\n")  # same size, same (coarse) times, same inode
    assert checksums(tmp_path)[0][1] == checksum(b"select 2;\n")
    assert load_directory(tmp_path)[0].checksum == checksum(b"select 2;\n")
    path.write_text("select 3;\n")
    assert checksums(tmp_path)[0][1] == checksum(b"select 3;\n")


def test_reading_leaks_no_file_descriptor(tmp_path: Path) -> None:
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    write(tmp_path, 20)
    (tmp_path / "migrations" / "021_empty.sql").write_bytes(b"")
    before = open_fds()
    for _ in range(3):
        files = load_directory(tmp_path)
        checksums(tmp_path)
    assert open_fds() == before
    assert files[-1].data == b"" and len(files) == 21
    (tmp_path / "migrations" / "022_bad.sql").write_bytes(b"\xff")
    with pytest.raises(MigrationFileError):
        checksums(tmp_path)
    assert open_fds() == before


def test_a_large_file_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "schema").mkdir()
    body = b"".join(b"insert into t values (%d);\r\n" % i for i in range(20000))
    (tmp_path / "schema" / "00_big.sql").write_bytes(body)
    (big,) = load_directory(tmp_path)
    assert big.data == body  # the text runs as written; the checksum ignores CRLF
    assert checksums(tmp_path) == [("schema/00_big.sql", checksum(body))]


# --- unreadable folders and files --------------------------------------------------------------

NOBODY = 65534


def as_nobody(func: Callable[[], object]) -> object:
    """Call ``func`` as the unprivileged ``nobody`` user (in a forked child when we are root,
    where permissions stop nothing); its result or its error comes back as plain data."""
    def outcome() -> object:
        try:
            return ("returned", func())
        except Exception as exc:
            return ("raised", type(exc).__name__, str(exc), getattr(exc, "file", None))

    if os.geteuid() != 0:
        return outcome()
    read, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            data = pickle.dumps(outcome())
            os.write(write_end, data)
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return pickle.loads(b"".join(chunks))


@pytest.fixture
def shared_root() -> Iterator[Path]:
    """A SQL root that the nobody user can reach (pytest's tmp_path is private to us)."""
    root = Path(tempfile.mkdtemp(prefix="storedb-perm-"))
    root.chmod(0o755)
    for folder in ("schema", "migrations"):
        (root / folder).mkdir(mode=0o755)
    (root / "schema" / "00_base.sql").write_text("create table t (id int);\n")
    (root / "schema" / "00_base.sql").chmod(0o644)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_an_unreadable_file_is_named(shared_root: Path) -> None:
    (shared_root / "migrations" / "001_secret.sql").write_text("select 1;\n")
    (shared_root / "migrations" / "001_secret.sql").chmod(0)
    message = ("migrations/001_secret.sql: cannot read it: Permission denied. Check its "
               "permissions (and that it is not a link to itself).")
    assert as_nobody(lambda: checksums(shared_root)) == (
        "raised", "MigrationFileError", message, "migrations/001_secret.sql")
    assert as_nobody(lambda: load_directory(shared_root)) == (
        "raised", "MigrationFileError", message, "migrations/001_secret.sql")
    result = as_nobody(lambda: invoke("status", "--dsn", "host=/nonexistent dbname=x",
                                      "--dir", str(shared_root)))
    assert result == ("returned", CliResult(1, "", f"storedb: error: {message}\n"))


def test_an_unreadable_folder_is_named(shared_root: Path) -> None:
    (shared_root / "migrations").chmod(0)
    message = (f"cannot read {shared_root / 'migrations'}: Permission denied. It must be a "
               "readable folder of .sql files.")
    assert as_nobody(lambda: load_directory(shared_root)) == (
        "raised", "UsageError", message, None)
    result = as_nobody(lambda: invoke("migrate", "--dsn", "host=/nonexistent dbname=x",
                                      "--dir", str(shared_root)))
    assert result == ("returned", CliResult(2, "", f"storedb: error: {message}\n"))


def test_a_file_is_named_as_the_history_names_it_however_it_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storedb.runner._files import file_name

    root = tmp_path / "infra" / "db"
    (root / "migrations").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert file_name("migrations/007_x.sql", root) == "migrations/007_x.sql"
    assert file_name("schema/00_a.sql", Path("/elsewhere")) == "schema/00_a.sql"
    assert file_name("migrations\\007_x.sql", Path("/elsewhere")) == "migrations/007_x.sql"
    assert file_name("infra/db/migrations/007_x.sql", Path("infra/db")) == "migrations/007_x.sql"
    assert file_name(str(root / "migrations" / "007_x.sql"), root) == "migrations/007_x.sql"
    assert file_name("migrations/sub/x.sql", Path("/elsewhere")) == "migrations/sub/x.sql"
    assert file_name("/tmp/other/007_x.sql", root) == "/tmp/other/007_x.sql"  # outside: as given
    assert file_name("x/schema/00_a.sql", root) == "x/schema/00_a.sql"
    assert file_name("infra/db/schema/00_a.sql", root) == "schema/00_a.sql"
