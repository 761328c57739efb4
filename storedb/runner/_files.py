"""Finding migration files, naming rules, checksums and header directives.

A file's identity is its path relative to the SQL root
(``schema/00_base.sql``).  Everything here is plain functions over names and
bytes except :func:`load_directory`, the one place that touches the disk, so
the rules can be tested without a database or a filesystem.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MigrationFileError, UsageError

#: Where the SQL root is: a path, or None for $STOREDB_DIR / ./infra/db / the shipped SQL.
Directory = str | os.PathLike[str] | None

#: Folders applied in this order, each with the pattern its ``.sql`` files must match.
FOLDERS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("schema", re.compile(r"^([0-9]{2})_([a-z0-9][a-z0-9_]*)\.sql$"),
     "NN_name.sql, e.g. 00_base.sql"),
    ("migrations", re.compile(r"^([0-9]{3,})_([a-z0-9][a-z0-9_]*)\.sql$"),
     "NNN_name.sql, e.g. 001_add_products_table.sql"),
)

#: Header directives a file may carry as ``-- storedb:<name>`` lines.
DIRECTIVES = frozenset({"no-transaction"})

_BOM = b"\xef\xbb\xbf"
_DIRECTIVE = re.compile(rb"^--\s*storedb:\s*(\S*)\s*$")


def normalise(raw: bytes) -> bytes:
    """Strip a UTF-8 BOM and turn CRLF into LF, so a Windows checkout is not drift."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    return raw.replace(b"\r\n", b"\n") if b"\r" in raw else raw


def checksum(raw: bytes) -> str:
    """Lowercase hex SHA-256 of the normalised bytes: the value kept in history."""
    return hashlib.sha256(normalise(raw)).hexdigest()


def directory_digest(checksums: Iterable[tuple[str, str]]) -> str:
    """One SHA-256 over every ``(name, checksum)`` pair, sorted by name (bytewise).

    The history table can compute the same value in one query, which is what
    makes the up-to-date check a single round trip.
    """
    lines = sorted(f"{name} {check}" for name, check in checksums)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@dataclass(frozen=True)
class MigrationFile:
    """One SQL file: its bytes as on disk (without a UTF-8 BOM) and its checksum."""

    name: str
    folder: str
    number: int
    path: Path
    data: bytes = field(repr=False)
    checksum: str

    @property
    def text(self) -> str:
        """The file as text; :func:`load_directory` has already proved it is UTF-8."""
        return self.data.decode("utf-8")

    @functools.cached_property
    def directives(self) -> frozenset[str]:
        return parse_directives(self.name, self.data)

    @property
    def transactional(self) -> bool:
        return "no-transaction" not in self.directives


def parse_directives(name: str, data: bytes) -> frozenset[str]:
    """Read ``-- storedb:`` lines from the file's leading comment block.

    Directives further down would be easy to miss in review, so only the
    header counts, and an unknown directive is an error rather than a no-op.
    """
    found: set[str] = set()
    for number, line in enumerate(data.split(b"\n"), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith(b"--"):
            break
        match = _DIRECTIVE.match(stripped)
        if match:
            directive = match.group(1).decode("utf-8", "replace")
            if directive not in DIRECTIVES:
                raise MigrationFileError(
                    f"{name}:{number}: unknown directive 'storedb:{directive}'. "
                    f"Known directives: {', '.join(sorted(DIRECTIVES))}.",
                    file=name, line=number,
                )
            found.add(directive)
    return frozenset(found)


def check_utf8(name: str, data: bytes) -> None:
    """Refuse bytes that are not UTF-8, pointing at the first bad byte's line."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise MigrationFileError(
            f"{name}:{line}:{column}: the file is not valid UTF-8 (byte 0x{data[exc.start]:02x}). "
            "Save it as UTF-8 (without changing an applied file's meaning).",
            file=name, line=line, column=column,
        ) from None


def select_files(listing: Mapping[str, Iterable[str]]) -> list[tuple[str, str, int]]:
    """Order a folder listing into ``(folder, filename, number)`` in apply order.

    ``listing`` maps each folder (``schema``, ``migrations``) to the file names
    it holds.  Files that do not end in ``.sql`` are ignored; a ``.sql`` name
    off the pattern, or two files sharing a number, is an error naming them all.
    """
    ordered: list[tuple[str, str, int]] = []
    problems: list[str] = []
    for folder, pattern, expected in FOLDERS:
        by_number: dict[int, list[str]] = {}
        for filename in listing.get(folder, ()):
            if not filename.endswith(".sql"):
                if filename.lower().endswith(".sql"):  # 002_x.SQL: never skip it silently
                    problems.append(f"{folder}/{filename}: storedb reads only names ending in "
                                    f"lower-case '.sql', not '{filename[-4:]}': rename it")
                continue
            match = pattern.match(filename)
            if not match:
                problems.append(f"{folder}/{filename}: name does not match {expected} "
                                "(lower-case letters, digits and underscores)")
                continue
            by_number.setdefault(int(match.group(1)), []).append(filename)
        for number in sorted(by_number):
            names = sorted(by_number[number])
            if len(names) > 1:
                problems.append(f"{folder}: number {number} is used by "
                                + ", ".join(f"{folder}/{n}" for n in names)
                                + " — renumber all but one (storedb new picks a free number)")
            ordered.extend((folder, n, number) for n in names)
    if problems:
        raise MigrationFileError(
            "bad migration file names (nothing was applied):\n  " + "\n  ".join(problems)
        )
    return ordered


def scan(root: Path) -> list[tuple[str, str, int, str]]:
    """Find and validate the files under ``root``: ``(folder, filename, number, path)`` in order.

    A root with neither ``schema/`` nor ``migrations/`` is refused: a wrong
    ``--dir`` must not look like an up-to-date database.
    """
    base = os.fspath(root)
    if not os.path.isdir(base):
        raise UsageError(f"SQL directory {root} does not exist (or is not a directory). Pass "
                         "--dir or set STOREDB_DIR to the folder that holds schema/ and "
                         "migrations/.")
    listing: dict[str, list[str]] = {}
    odd: list[str] = []
    for folder, _, _ in FOLDERS:
        try:
            with os.scandir(os.path.join(base, folder)) as it:
                entries = list(it)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UsageError(f"cannot read {root / folder}: {exc.strerror}. It must be a "
                             "readable folder of .sql files.") from None
        listing[folder] = [e.name for e in entries if _is_file(e)]
        odd += [f"{folder}/{e.name}" for e in entries
                if e.name.lower().endswith(".sql") and not _is_file(e)]
    if not listing:
        raise UsageError(f"{root} holds neither schema/ nor migrations/: is --dir (or "
                         "STOREDB_DIR) pointing at the SQL root, e.g. infra/db?")
    if odd:
        raise MigrationFileError("these .sql entries are not regular files (a folder, or a "
                                 "broken or looping link); nothing was applied:\n  "
                                 + "\n  ".join(sorted(odd)))
    return [(folder, filename, number, os.path.join(base, folder, filename))
            for folder, filename, number in select_files(listing)]


def _is_file(entry: os.DirEntry[str]) -> bool:
    """``DirEntry.is_file``, but False for a link that loops (it raises ELOOP there)."""
    try:
        return entry.is_file()
    except OSError:
        return False


def load_file(name: str, folder: str, number: int, path: str) -> MigrationFile:
    """Read one file: the one place that reads, decodes and checksums SQL from disk.

    The text keeps the file's own bytes (only a UTF-8 BOM is dropped, as psql
    drops it), so what runs is what the file says; the checksum is taken
    over the normalised bytes (:func:`checksum`), so a Windows checkout is not
    drift.  The checksum is cached by stat key for :func:`checksums`.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            st = os.fstat(fd)
            chunks = [os.read(fd, st.st_size + 1)]
            while chunks[-1]:
                chunks.append(os.read(fd, 1 << 16))
        finally:
            os.close(fd)
    except OSError as exc:
        raise MigrationFileError(f"{name}: cannot read it: {exc.strerror}. Check its "
                                 "permissions (and that it is not a link to itself).",
                                 file=name) from None
    data = b"".join(chunks)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    check_utf8(name, data)
    check = checksum(data)
    if time.time_ns() - st.st_mtime_ns > _SETTLED_NS:
        _checksums[path] = (_key(st), check)
    return MigrationFile(name=name, folder=folder, number=number, path=Path(path), data=data,
                         checksum=check)


def _key(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino


#: path -> (stat key, checksum): a process that checks again (a long-running
#: app, a test suite) re-reads only files whose size, times or inode changed.
_checksums: dict[str, tuple[tuple[int, int, int, int], str]] = {}
_SETTLED_NS = 2_000_000_000  # files touched in the last 2 s are always re-read


def _checksum(name: str, folder: str, number: int, path: str) -> str:
    cached = _checksums.get(path)
    if cached is not None:
        try:
            if cached[0] == _key(os.stat(path)):
                return cached[1]
        except OSError:
            pass
    return load_file(name, folder, number, path).checksum


def checksums(root: Path) -> list[tuple[str, str]]:
    """``(name, checksum)`` of every file, in order: the up-to-date path of every start-up.

    Plain ``os`` calls and a stat-keyed cache keep this to a few microseconds a file.
    """
    return [(f"{folder}/{filename}", _checksum(f"{folder}/{filename}", folder, number, path))
            for folder, filename, number, path in scan(root)]


def load_directory(root: Path) -> list[MigrationFile]:
    """Read every migration file under ``root`` in apply order, contents included."""
    return [load_file(f"{folder}/{filename}", folder, number, path)
            for folder, filename, number, path in scan(root)]


def next_migration_name(existing: Iterable[str], slug: str) -> str:
    """The file name ``storedb new`` creates: the next free number, then the slug."""
    clean = re.sub(r"[^a-z0-9]+", "_", slug.lower()).strip("_")
    if not clean:
        raise UsageError(f"cannot make a file name from {slug!r}: use letters and digits, "
                         "e.g. storedb new add_invoices_table")
    numbers = [int(m.group(1)) for n in existing if (m := FOLDERS[1][1].match(n))]
    return f"{max(numbers, default=0) + 1:03d}_{clean}.sql"


def resolve_directory(directory: Directory = None) -> Path:
    """The SQL root: the argument, else $STOREDB_DIR, else ./infra/db, else the packaged SQL."""
    if directory is not None:
        return Path(directory)
    env = os.environ.get("STOREDB_DIR")
    if env:
        return Path(env)
    local = Path("infra/db")
    if local.is_dir():
        return local
    packaged = shipped_directory()
    logging.getLogger("storedb").info(
        "no ./infra/db here and no --dir or STOREDB_DIR: using the SQL shipped with storedb "
        "(%s)", packaged)
    return packaged


def file_name(given: str, root: Path) -> str:
    """A file as the history names it (``migrations/007_x.sql``), however the user wrote it.

    Accepted: the name ``status`` shows, the path ``new`` prints
    (``infra/db/migrations/007_x.sql``), and any path to the file relative to
    the current directory or absolute.  Anything else comes back unchanged,
    for the caller's "no such file" message to quote.
    """
    text = given.replace("\\", "/")
    if any(re.match(rf"^{folder}/[^/]+$", text) for folder, _, _ in FOLDERS):
        return text
    try:
        path = Path(given).absolute().resolve()
        inside = path.relative_to(Path(root).absolute().resolve())
    except (OSError, ValueError):
        return given
    return inside.as_posix()


def shipped_directory() -> Path:
    """The SQL that came with storedb: storedb/sql in a wheel, infra/db in a checkout."""
    package = Path(__file__).resolve().parent.parent  # storedb/
    packaged = package / "sql"  # what the wheel ships
    return packaged if packaged.is_dir() else package.parent / "infra" / "db"
