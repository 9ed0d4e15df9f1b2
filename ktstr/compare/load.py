"""Find and read the runs on one side of a comparison.

A side is one or more paths. Each path may be
- a result.json written by `ktstr run` or a ktstr_test target;
- a directory: every result.json below it, and every outputs.zip below it (Bazel zips a test's
  outputs into bazel-testlogs/<package>/<target>/test.outputs/outputs.zip; with
  --runs_per_test=N each run has its own run_<i>_of_<N>/ directory), each one run;
so `ktstr compare bazel-testlogs/sched/scx_ktstr_test bazel-testlogs/sched/scx_slow_test`
compares every run Bazel kept of the two targets.
"""

from __future__ import annotations

import zipfile
from functools import partial
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ktstr.errors import KtstrError
from ktstr.wire import results
from ktstr.wire.results import RESULT_NAME, RunReport
ZIP_NAME = "outputs.zip"


class CompareInputError(KtstrError, ValueError):
    """A side that cannot be read; the message names the path and what to give instead."""


@dataclass(frozen=True)
class TestRun:
    """One test function's result in one run."""

    __test__ = False  # not a pytest class

    name: str
    verdict: str  # PASS, FAIL, SKIP, INCONCLUSIVE
    reason: str
    stats: dict[str, float]


@dataclass
class Run:
    """One result.json: the tests of one ktstr run."""

    source: str  # where it came from, for the report
    suite: str
    engine: str
    tests: dict[str, TestRun] = field(default_factory=dict)


def _run(report: RunReport, source: str) -> Run:
    run = Run(source=source, suite=report.suite, engine=report.engine)
    for o in report.outcomes:
        run.tests[o.name] = TestRun(name=o.name, verdict=o.verdict.value, reason=o.reason, stats=dict(o.stats))
    return run


def _read(read: Callable[[], RunReport], source: str) -> Run:
    """One result.json, read by its one reader (ktstr.wire.results), its errors a side's."""
    try:
        return _run(read(), source)
    except results.ResultFileError as exc:
        raise CompareInputError(str(exc)) from None


def _read_json(path: Path) -> Run:
    return _read(partial(results.read_result, path), str(path))


def _read_zip(path: Path) -> list[Run]:
    try:
        with zipfile.ZipFile(path) as z:
            names = sorted(n for n in z.namelist() if n == RESULT_NAME or n.endswith("/" + RESULT_NAME))
            runs = []
            for n in names:
                source = f"{path}!{n}"
                runs.append(_read(partial(results.parse_result, z.read(n), source), source))
            return runs
    except zipfile.BadZipFile as exc:
        raise CompareInputError(f"{path}: not a zip file ({exc})") from exc


def _files_below(root: Path) -> Iterable[Path]:
    # Sorted walk: the order of runs is part of the (deterministic) report.
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name in (RESULT_NAME, ZIP_NAME):
            yield p


def load_side(paths: Sequence[str | Path]) -> list[Run]:
    """Every run found under `paths`, in a stable order. A path that yields no run is an
    error: a comparison against nothing would say "no regression" and mean nothing."""
    runs: list[Run] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise CompareInputError(f"{path}: no such file or directory (give result.json files, run "
                                    f"directories or bazel-testlogs/<package>/<target>)")
        found: list[Run] = []
        candidates = [path] if path.is_file() else list(_files_below(path))
        for p in candidates:
            if p.name.endswith(".zip"):
                found += _read_zip(p)
            else:
                found.append(_read_json(p))
        if not found:
            raise CompareInputError(f"{path}: no {RESULT_NAME} or {ZIP_NAME} found in it (is it a run's "
                                    f"output directory? Bazel keeps them in "
                                    f"bazel-testlogs/<package>/<target>/test.outputs/)")
        runs += found
    return runs
