"""CI's cost, said before it is paid: a table of measured cold costs per target, checked
against what `bazel test //...` would run, and against CI's budget.

CI runs `.ci/run` (the README's `./bazelw test //...`) on a fresh 2-core machine with 90
minutes; the project keeps a cold run within 60 of them. Every target that `//...` builds or
tests and that costs real time (a test; a kernel) has a row in costs.tsv with its measured
cold cost, so a new target must bring its cost and the suite cannot quietly outgrow CI:

    python3 tools/ci/budget.py            # queries Bazel, checks the table (.ci/run does this)
    python3 tools/ci/budget.py --log LOG  # also compares a `bazel test` log's times

The estimate is setup + every kernel (they compile one at a time, ktstr/kernel/build.py) +
the tests' measured times divided by TEST_PARALLELISM (Bazel runs two tests at a time on two
cores; the times in the table were measured in such a run, so they already include the
sharing).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ktstr.errors import KtstrError  # noqa: E402

BUDGET_S = 3600  # 60 of CI's 90 minutes: the rest is the margin for slow days (2x seen).
TEST_PARALLELISM = 2
TABLE = Path(__file__).with_name("costs.tsv")
# What `bazel test //...` runs or builds at real cost: tests, and kernels (built by `//...`
# even when no test needs them; ktstr's own are //kernels aliases of @ktstr_kernels). Manual
# targets are outside `//...`.
QUERY = (
    'let all = //... except attr(tags, "\\bmanual\\b", //...) in '
    'tests($all) + kind("ktstr_kernel_rule rule", $all) + '
    'attr(actual, "@ktstr_kernels//", kind("alias rule", $all))'
)
SETUP = "setup"  # the row for apt + venv + Bazel's own start on a fresh machine
# setup and kernels run alone (kernels one at a time); "serial" is a test that holds both
# cores (tag cpu:2: the consumer workspace's nested Bazel runs VM tests itself); "test"s
# share the cores two at a time.
KINDS = ("setup", "kernel", "serial", "test")


class BudgetError(KtstrError):
    """The cost table is malformed, or the suite does not fit its budget."""


@dataclass(frozen=True)
class Cost:
    target: str
    seconds: float
    kind: str  # one of KINDS
    note: str


def parse_table(text: str, source: str = "costs.tsv") -> dict[str, Cost]:
    rows: dict[str, Cost] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise BudgetError(f"{source}:{n}: want 'target<TAB>seconds<TAB>kind[<TAB>note]', got {line!r}")
        target, seconds, kind = parts[0].strip(), parts[1].strip(), parts[2].strip()
        if kind not in KINDS:
            raise BudgetError(f"{source}:{n}: kind {kind!r} is not one of {', '.join(KINDS)}")
        try:
            value = float(seconds)
        except ValueError:
            raise BudgetError(f"{source}:{n}: seconds {seconds!r} is not a number") from None
        if value <= 0:
            raise BudgetError(f"{source}:{n}: {target}: a cost of {value} s is no measurement")
        if target in rows:
            raise BudgetError(f"{source}:{n}: {target} listed twice")
        rows[target] = Cost(target, value, kind, parts[3].strip() if len(parts) > 3 else "")
    return rows


def estimate_s(table: dict[str, Cost]) -> float:
    fixed = sum(c.seconds for c in table.values() if c.kind != "test")
    return fixed + sum(c.seconds for c in table.values() if c.kind == "test") / TEST_PARALLELISM


def _in_run(table: dict[str, Cost], targets: set[str]) -> dict[str, Cost]:
    return {t: c for t, c in table.items() if t in targets or t == SETUP}


def check(table: dict[str, Cost], targets: set[str], budget_s: float = BUDGET_S) -> list[str]:
    """Every problem with the table for this set of targets; [] when it fits."""
    problems = []
    if SETUP not in table:
        problems.append(f"no '{SETUP}' row (apt, venv and Bazel's start on a fresh machine)")
    for t in sorted(targets - set(table)):
        problems.append(f"{t}: no row in tools/ci/costs.tsv: measure its cold cost and add it")
    for t in sorted(set(table) - targets - {SETUP}):
        problems.append(f"{t}: in tools/ci/costs.tsv but not run by `bazel test //...`: remove the row")
    total = estimate_s(_in_run(table, targets))
    if total > budget_s:
        problems.append(f"estimated cold CI run {total / 60:.1f} min exceeds the budget of {budget_s / 60:.0f} min")
    return problems


def query_targets(workspace: Path) -> set[str]:
    out = subprocess.run(["./bazelw", "query", "--output=label", QUERY], cwd=workspace, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip().startswith("//")}


_TIME = re.compile(r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED|TIMEOUT|FLAKY)\s+in\s+([\d.]+)s")


def times_from_log(text: str) -> dict[str, float]:
    """Per-target seconds from a `bazel test` summary (sharded and repeated runs summed)."""
    times: dict[str, float] = {}
    for line in text.splitlines():
        m = _TIME.match(line.strip())
        if m and "(cached)" not in line:
            times[m.group(1)] = times.get(m.group(1), 0.0) + float(m.group(3))
    return times


def add_missing(path: Path, table: dict[str, Cost], times: dict[str, float]) -> int:
    rows = [f"{t}\t{max(1, round(sec))}\ttest\tmeasured" for t, sec in sorted(times.items()) if t not in table]
    if rows:
        with path.open("a") as f:
            f.write("\n".join(rows) + "\n")
    return len(rows)


def report(table: dict[str, Cost], targets: set[str]) -> str:
    rows = _in_run(table, targets)

    def minutes(kind: str) -> float:
        return sum(c.seconds for c in rows.values() if c.kind == kind) / 60

    n_tests = sum(1 for c in rows.values() if c.kind in ("test", "serial"))
    return (f"ktstr-ci budget: setup {minutes('setup'):.1f} min + kernels {minutes('kernel'):.1f} min + "
            f"whole-machine tests {minutes('serial'):.1f} min + other tests {minutes('test'):.1f} min / "
            f"{TEST_PARALLELISM} = {estimate_s(rows) / 60:.1f} min estimated for {n_tests} tests, "
            f"budget {BUDGET_S / 60:.0f} min")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--table", type=Path, default=TABLE)
    p.add_argument("--targets", type=Path, help="a file of labels instead of querying Bazel")
    p.add_argument("--log", type=Path, help="a `bazel test` log: print measured against the table")
    p.add_argument("--add-missing", action="store_true",
                   help="with --log: append a row for each tested target that has none, at its measured time")
    args = p.parse_args(argv)
    try:
        table = parse_table(args.table.read_text(), str(args.table))
        if args.targets:
            targets = {t.strip() for t in args.targets.read_text().splitlines() if t.strip()}
        else:
            targets = query_targets(ROOT)
        if args.log:
            for target, seconds in sorted(times_from_log(args.log.read_text()).items()):
                row = table.get(target)
                was = f"{row.seconds:.0f} s" if row else "no row"
                flag = "  <- over 1.5x its row" if row and seconds > 1.5 * row.seconds else ""
                print(f"ktstr-ci cost: {target} {seconds:.0f} s (table: {was}){flag}")
            if args.add_missing:
                added = add_missing(args.table, table, times_from_log(args.log.read_text()))
                table = parse_table(args.table.read_text(), str(args.table))
                print(f"ktstr-ci budget: added {added} row(s) to {args.table}")
        print(report(table, targets))
        problems = check(table, targets)
    except (KtstrError, OSError, subprocess.CalledProcessError) as e:
        print(f"ktstr-ci budget: {e}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"ktstr-ci budget: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
