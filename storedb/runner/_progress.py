"""Progress lines for large files, so a long parse or apply is never silent.

A 50 MB schema dump takes a while to parse and longer to run; the log says
what is happening every few seconds instead of nothing for minutes.  Small
files (the usual case) print nothing extra.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from ._files import MigrationFile
from ._statements import Statement, split

log = logging.getLogger("storedb")

#: Files at least this large (bytes) get progress lines.
LARGE = 1 << 20
#: Seconds between two progress lines of one file.
EVERY = 5.0


def parse_all(files: Iterable[MigrationFile]) -> list[tuple[MigrationFile, list[Statement]]]:
    """Split every file (all are checked before anything runs), saying so for large ones."""
    out = []
    for f in files:
        large = len(f.data) >= LARGE
        if large:
            log.info("parsing %s (%.1f MB)...", f.name, len(f.data) / 1e6)
        started = time.perf_counter()
        statements = split(f)
        if large:
            log.info("%s: %d statements, parsed in %.2f s", f.name, len(statements),
                     time.perf_counter() - started)
        out.append((f, statements))
    return out


class Progress:
    """Called with the statements done so far; logs at most every :data:`EVERY` seconds."""

    def __init__(self, file: MigrationFile, total: int) -> None:
        self.file, self.total = file, total
        self.started = time.monotonic()
        self.next = self.started + EVERY

    @classmethod
    def for_file(cls, file: MigrationFile, total: int) -> Progress | None:
        if len(file.data) < LARGE:
            return None
        log.info("applying %s: %d statements...", file.name, total)
        return cls(file, total)

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now >= self.next:
            self.next = now + EVERY
            log.info("%s: %d of %d statements done (%.0f s)", self.file.name, done, self.total,
                     now - self.started)
