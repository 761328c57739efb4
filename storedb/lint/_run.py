"""``lint()``: choose the files, read the whole directory in order, report on the chosen ones.

Every file before the last chosen one is read (applied or not), because the
rules need the schema it leaves: whether ``products`` is a tenant table,
whether a NOT NULL check was validated in an earlier file.  Only the chosen
files are reported on.  Static lint needs no database when the files are
named or ``all_files`` is set; the pending files (the default) need the
history, and ``measure`` needs the database itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .._connection import Database, resolve, session
from ..errors import MigrationFileError, UsageError
from ..runner._files import (
    Directory,
    MigrationFile,
    check_utf8,
    checksum,
    load_directory,
    normalise,
    resolve_directory,
)
from ..runner._statements import Statement, split
from . import _static as static
from . import _suppress as suppress
from . import _tenancy as tenancy
from ._model import Catalog, FileState
from ._result import Finding, LintResult, finding
from ._tree import statements as trees

PathLike = str | os.PathLike[str]


def lint(db: Database | None = None, *, files: Sequence[PathLike] = (),
         all_files: bool = False, directory: Directory = None, measure: bool = False,
         lock_timeout: float = 1.0, statement_timeout: float = 60.0, wait: float = 0.0
         ) -> LintResult:
    """Lint migration files; change nothing.

    ``files`` names files as ``status`` shows them (``migrations/003_x.sql``)
    or as paths; ``all_files`` lints every file; otherwise the files pending
    on ``db``.  ``measure`` also runs each pending transactional file on
    ``db`` in a transaction that is always rolled back, and reports the locks
    and rewrites it really caused (see :mod:`storedb.lint._measure`).
    """
    root = resolve_directory(directory)
    every = _directory(root, optional=bool(files))
    if files:
        chosen = [_resolve(root, every, f) for f in files]
    elif all_files:
        chosen = list(every)
    else:
        chosen = _pending(db, every, wait)
    findings, ignores, parsed = check_files(every, chosen)
    notes: list[str] = []
    if measure:
        from ._measure import measure_files

        findings, notes = measure_files(resolve(db), parsed, findings, wait=wait,
                                        lock_timeout=lock_timeout,
                                        statement_timeout=statement_timeout)
    findings, suppressed = suppress.apply(findings, ignores)
    baseline = suppress.load_baseline(root)
    findings, baselined = baseline.apply(findings)
    findings += baseline.problems
    order = {f.name: i for i, f in enumerate(chosen)}
    findings.sort(key=lambda f: (-(f.measured.rows if f.measured else 0),
                                 order.get(f.file, len(order)), f.line, f.column, f.rule))
    return LintResult(tuple(findings), tuple(f.name for f in chosen), tuple(notes), suppressed,
                      baselined, measure)


def check_files(every: Sequence[MigrationFile], chosen: Sequence[MigrationFile]
                ) -> tuple[list[Finding], list[suppress.Ignore],
                           list[tuple[MigrationFile, list[Statement]]]]:
    """Static lint of ``chosen``, reading ``every`` file up to the last chosen one for context."""
    wanted = {f.name for f in chosen}
    outside = [f for f in chosen if f.name not in {e.name for e in every}]
    last = len(every) - 1 if outside else max(
        (i for i, f in enumerate(every) if f.name in wanted), default=-1)
    catalog = Catalog()
    findings: list[Finding] = []
    ignores: list[suppress.Ignore] = []
    parsed: list[tuple[MigrationFile, list[Statement]]] = []
    for file in [*every[:last + 1], *outside]:
        if file.name not in wanted:
            _read_only(catalog, file)
            continue
        try:
            statements = split(file)
        except MigrationFileError as exc:
            findings.append(finding("parse-error", file.name, exc.line or 1, exc.column or 1,
                                    str(exc)))
            statements = _parsable(file)  # e.g. VACUUM FULL in a transactional file:
            if not statements:            # the rules still say what else is wrong
                continue
        state = FileState(file, catalog)
        for stmt, node in zip(statements, trees(file.text), strict=False):
            state.statement = stmt
            static.check(state, node)
            catalog.apply(node, file.name)
        static.finish(state)
        tenancy.finish(state)
        found, problems = suppress.comments(file, statements)
        findings += state.findings + problems
        ignores += found
        parsed.append((file, statements))
    return findings, ignores, parsed




def _parsable(file: MigrationFile) -> list[Statement]:
    """The statements of a file the runner refuses but PostgreSQL's parser accepts."""
    from pglast import parser

    text = file.text
    try:
        slices = parser.split(text, with_parser=True, only_slices=True)
    except parser.ParseError:
        return []
    out = []
    for index, piece in enumerate(slices, start=1):
        line = text.count("\n", 0, piece.start) + 1
        column = piece.start - (text.rfind("\n", 0, piece.start) + 1) + 1
        out.append(Statement(index, text[piece], piece.start, line, column))
    return out


def _read_only(catalog: Catalog, file: MigrationFile) -> None:
    """A file before the chosen ones: only its effect on the schema matters."""
    from pglast.parser import ParseError

    try:
        nodes = trees(file.text)
    except ParseError:
        return  # reported when the file itself is linted
    for node in nodes:
        catalog.apply(node, file.name)


def _directory(root: Path, *, optional: bool) -> list[MigrationFile]:
    try:
        return load_directory(root)
    except UsageError:
        if optional:  # named files need no SQL directory around them
            return []
        raise


def _resolve(root: Path, every: Sequence[MigrationFile], given: PathLike) -> MigrationFile:
    """A file named as status shows it, or by a path (relative to the cwd, or absolute)."""
    by_name = {f.name: f for f in every}
    text = os.fspath(given)
    if text in by_name:
        return by_name[text]
    path = Path(text)
    if path.is_file():
        try:
            name = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            name = ""
        if name in by_name:
            return by_name[name]
        data = normalise(path.read_bytes())
        check_utf8(text, data)
        return MigrationFile(name=text, folder=path.parent.name, number=0, path=path,
                             data=data, checksum=checksum(data))
    example = every[-1].name if every else "migrations/001_name.sql"
    raise UsageError(f"{text}: no such file. Name it as 'storedb status' shows it (e.g. "
                     f"{example}) or give its path.")


def _pending(db: Database | None, every: list[MigrationFile], wait: float
             ) -> list[MigrationFile]:
    from ..runner import _history as history
    from ..runner._plan import make_plan

    with session(resolve(db), wait=wait) as conn:
        return list(make_plan(every, history.read(conn)).pending)
