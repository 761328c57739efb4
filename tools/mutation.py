"""Mutation testing of storedb's pure core: do the tests notice a small fault?

    python -m tools.mutation            # what ``make mutation`` runs
    python -m tools.mutation --jobs 1 --module storedb/runner/_plan.py

Each mutant (see tools/mutants.py for the operators) is written into a private copy of the
repository (one copy per job, never the working tree) and the tests are run against it with
``pytest -x``: first the fast tests without a database (stage 1), then, for the mutants that
survived, the database-backed tests that exercise the core (stage 2, one throwaway cluster per
run).  A mutant is *killed* when a test fails, *timeout* when the run exceeds its time limit
(an endless loop: counted as killed), *survived* otherwise.  Mutants listed in
tools/mutation-equivalent.txt (``id :: description :: reason``) cannot change what a user
sees; they are not run and not counted.  The score is killed / (all - equivalent).

The report goes to stdout and to tools/mutation-report.txt.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tools.mutants import Mutant, mutants

ROOT = Path(__file__).resolve().parent.parent
CORE = ["storedb/runner/_files.py", "storedb/runner/_plan.py", "storedb/runner/_statements.py"]
EQUIVALENT = ROOT / "tools" / "mutation-equivalent.txt"
REPORT = ROOT / "tools" / "mutation-report.txt"
#: Stage 1: no database, a second or two per mutant (the CLI tests among them run in-process).
FAST = ["tests/runner/test_files.py", "tests/runner/test_files_disk.py",
        "tests/runner/test_plan.py", "tests/runner/test_statements.py",
        "tests/runner/test_as_psql.py::test_refused_before_anything_runs"]
#: Stage 2: the database tests that go through the core, for the mutants stage 1 left alive.
DATABASE = ["tests/runner/test_migrate.py", "tests/runner/test_as_psql.py",
            "tests/test_bad_inputs.py", "tests/test_cli.py", "tests/runner/test_seed.py"]
COPIED = ["storedb", "tests", "infra", "tools", "pyproject.toml", "README.md"]


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    status: str  # killed, timeout, survived, equivalent
    stage: int  # the stage that decided (0: not run)
    seconds: float
    detail: str = ""  # the first failing test, or the equivalence reason


def read_equivalent(path: Path = EQUIVALENT) -> dict[str, tuple[str, str]]:
    """id -> (description, reason) from the committed list."""
    listed: dict[str, tuple[str, str]] = {}
    if path.exists():
        for raw in path.read_text().splitlines():
            if raw.strip() and not raw.startswith("#"):
                ident, description, reason = (part.strip() for part in raw.split(" :: ", 2))
                listed[ident] = (description, reason)
    return listed


class Workers:
    """Private copies of the repository, handed out one per running mutant."""

    def __init__(self, jobs: int) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="storedb-mutation-"))
        self.free: queue.Queue[Path] = queue.Queue()
        for n in range(jobs):
            copy = self.base / f"w{n}"
            copy.mkdir(parents=True)
            for name in COPIED:
                source = ROOT / name
                if source.is_dir():
                    shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns(
                        "__pycache__", "*.pyc", "out", ".tools"))
                else:
                    shutil.copy2(source, copy / name)
            self.free.put(copy)
        for folder in (self.base, *self.base.iterdir()):
            folder.chmod(0o755)  # some tests drop to the nobody user and must reach the files

    def run(self, mutant: Mutant | None, stages: list[list[str]], timeout: float
            ) -> tuple[str, int, float, str]:
        copy = self.free.get()
        target = copy / mutant.file if mutant else None
        original = target.read_text() if target else ""
        started = time.monotonic()
        try:
            if target and mutant:
                target.write_text(mutant.source)
            for stage, tests in enumerate(stages, start=1):
                status, detail = _pytest(copy, tests, timeout)
                if status != "survived":
                    return status, stage, time.monotonic() - started, detail
            return "survived", len(stages), time.monotonic() - started, ""
        finally:
            if target:
                target.write_text(original)
            self.free.put(copy)

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


def _pytest(copy: Path, tests: list[str], timeout: float) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "STOREDB_DIR") and not k.startswith("PG")}
    env.update(PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-m", "not slow",
               f"--basetemp={copy}/.pytest-tmp", "-o", "addopts=", "-p", "no:cacheprovider",
               *tests]
    proc = subprocess.Popen(command, cwd=copy, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", f"more than {timeout:.0f}s"
    if proc.returncode == 0:
        return "survived", ""
    failed = [line for line in out.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return "killed", (failed[0] if failed else out.strip().splitlines()[-1] if out.strip()
                      else f"exit {proc.returncode}")[:160]


def run(modules: list[str], jobs: int, stage2: bool, check_equivalent: bool,
        say: Callable[[str], None], only: set[str] | None = None) -> list[Outcome]:
    listed = read_equivalent()
    todo: list[Mutant] = []
    outcomes: list[Outcome] = []
    for module in modules:
        for m in mutants(ROOT / module, module):
            if only is not None and m.id not in only:
                continue
            entry = listed.get(m.id)
            if entry and entry[0] != m.description:
                say(f"stale entry in {EQUIVALENT.name}: {m.id} is now {m.description!r}")
            if entry and entry[0] == m.description and not check_equivalent:
                outcomes.append(Outcome(m, "equivalent", 0, 0.0, entry[1]))
            else:
                todo.append(m)
    known = {m.id for module in modules for m in mutants(ROOT / module, module)}
    for ident in sorted(set(listed) - known):
        if any(ident.startswith(Path(module).name + ":") for module in modules):
            say(f"stale entry in {EQUIVALENT.name}: no mutant {ident} any more")
    stages = [FAST, DATABASE] if stage2 else [FAST]
    workers = Workers(jobs)
    try:
        status, _, seconds, detail = workers.run(None, stages[:1], timeout=600)
        if status != "survived":
            raise SystemExit(f"the unmutated code fails its tests: {detail}")
        timeout = max(30.0, 10 * seconds)
        say(f"{len(todo)} mutants to run ({len(outcomes)} listed as equivalent), {jobs} jobs, "
            f"stage 1 takes {seconds:.1f}s unmutated")

        def one(m: Mutant) -> Outcome:
            status, stage, seconds, detail = workers.run(m, stages, timeout=timeout)
            if status == "survived" and m.id in listed:
                detail = "listed as equivalent: " + listed[m.id][1]
            return Outcome(m, status, stage, seconds, detail)

        with ThreadPoolExecutor(jobs) as pool:
            for n, outcome in enumerate(pool.map(one, todo), start=1):
                outcomes.append(outcome)
                if outcome.status == "survived":
                    say(f"[{n}/{len(todo)}] SURVIVED {outcome.mutant.id} "
                        f"{outcome.mutant.file}:{outcome.mutant.line} "
                        f"{outcome.mutant.description}")
                elif n % 50 == 0:
                    say(f"[{n}/{len(todo)}] ...")
    finally:
        workers.close()
    return outcomes


def report(outcomes: list[Outcome], seconds: float) -> str:
    lines = ["storedb mutation report (python -m tools.mutation; see tools/mutants.py)", ""]
    modules = sorted({o.mutant.file for o in outcomes})
    lines.append(f"{'module':<32} {'mutants':>7} {'killed':>6} {'timeout':>7} "
                 f"{'survived':>8} {'equiv.':>6} {'score':>7}")
    total: Counter[str] = Counter()
    for module in [*modules, "all"]:
        counts = Counter(o.status for o in outcomes if module in ("all", o.mutant.file))
        if module != "all":
            total.update(counts)
        lines.append(f"{module:<32} {sum(counts.values()):>7} {counts['killed']:>6} "
                     f"{counts['timeout']:>7} {counts['survived']:>8} {counts['equivalent']:>6} "
                     f"{score(counts):>7}")
    by_stage = Counter(o.stage for o in outcomes if o.status in ("killed", "timeout"))
    lines += ["", f"killed by the fast tests: {by_stage[1]}, by the database tests: "
              f"{by_stage[2]}; run time {seconds / 60:.1f} min", ""]
    for title, status in (("SURVIVED", "survived"), ("EQUIVALENT (not run)", "equivalent")):
        chosen = [o for o in outcomes if o.status == status]
        lines.append(f"{title}: {len(chosen)}")
        for o in sorted(chosen, key=lambda o: (o.mutant.file, o.mutant.line, o.mutant.id)):
            lines.append(f"  {o.mutant.file}:{o.mutant.line}  {o.mutant.id}  "
                         f"{o.mutant.description}" + (f"\n      {o.detail}" if o.detail else ""))
        lines.append("")
    return "\n".join(lines)


def score(counts: Counter[str]) -> str:
    relevant = counts["killed"] + counts["timeout"] + counts["survived"]
    return f"{100 * (counts['killed'] + counts['timeout']) / relevant:.1f}%" if relevant else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--module", action="append", help="only this module (repeatable)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--fast-only", action="store_true", help="skip stage 2 (no database)")
    parser.add_argument("--check-equivalent", action="store_true",
                        help="run the mutants listed as equivalent too")
    parser.add_argument("--list", action="store_true", help="print the mutants and stop")
    parser.add_argument("--only", type=Path, metavar="FILE",
                        help="run only the mutants whose ids start the lines of FILE (e.g. the "
                        "survivors of an earlier run)")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    modules = args.module or CORE
    if args.list:
        for module in modules:
            for m in mutants(ROOT / module, module):
                print(f"{m.id} :: {m.description}    ({m.file}:{m.line})")
        return 0
    started = time.monotonic()
    only = None
    if args.only:
        only = {line.split()[0] for line in args.only.read_text().splitlines() if line.strip()}
    outcomes = run(modules, args.jobs, not args.fast_only, args.check_equivalent,
                   lambda text: print(text, flush=True), only)
    text = report(outcomes, time.monotonic() - started)
    print(text)
    args.report.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
