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

import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ktstr.errors import KtstrError

RESULT_NAME = "result.json"
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


def _verdict(test: dict[str, Any]) -> str:
    # The result model names it "verdict"; accept "status" as well so a renamed field does
    # not silently turn every test into an unknown.
    value = test.get("verdict", test.get("status"))
    if isinstance(value, dict):  # {"value": "PASS", ...}
        value = value.get("value")
    return str(value or "UNKNOWN").upper()


def parse_result(data: dict[str, Any], source: str) -> Run:
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise CompareInputError(f"{source}: not a ktstr result (no 'tests' list): give a result.json "
                                f"written by `ktstr run` or a ktstr_test target")
    run = Run(source=source, suite=str(data.get("suite", "?")), engine=str(data.get("engine", "?")))
    for index, t in enumerate(data["tests"]):
        if not isinstance(t, dict) or not isinstance(t.get("name"), str):
            raise CompareInputError(f"{source}: tests[{index}] is not a test result (an object with a "
                                    f"'name'): give a result.json written by ktstr")
        raw = t.get("stats") or {}
        if not isinstance(raw, dict):
            raise CompareInputError(f"{source}: test {t['name']}: 'stats' is a {type(raw).__name__}, not an object")
        run.tests[t["name"]] = TestRun(name=t["name"], verdict=_verdict(t), reason=str(t.get("reason", "")),
                                       stats={str(k): _stat(v, source, t["name"], str(k)) for k, v in raw.items()})
    return run


def _stat(value: Any, source: str, test: str, name: str) -> float:
    """A stat as a float. NaN and the infinities are kept (Python's json writes them as NaN
    and Infinity, strict writers as null), for the judge to report: dropping them changed
    a clear regression into "no change"."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CompareInputError(f"{source}: test {test}: stat {name} is {value!r}, not a number")
    return float(value)


def _read_json(path: Path) -> Run:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CompareInputError(f"{path}: cannot read it as JSON ({exc})") from exc
    return parse_result(data, str(path))


def _read_zip(path: Path) -> list[Run]:
    try:
        with zipfile.ZipFile(path) as z:
            names = sorted(n for n in z.namelist() if n == RESULT_NAME or n.endswith("/" + RESULT_NAME))
            runs = []
            for n in names:
                try:
                    data = json.loads(z.read(n))
                except ValueError as exc:
                    raise CompareInputError(f"{path}!{n}: not JSON ({exc})") from exc
                runs.append(parse_result(data, f"{path}!{n}"))
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
