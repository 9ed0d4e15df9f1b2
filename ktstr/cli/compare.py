"""`ktstr compare A B`: exit 0 = no regression, 1 = regression, 2 = bad input,
3 = inconclusive (too few runs per side to judge)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ktstr.cli.help import add_subcommand
from ktstr.errors import KtstrError

EXIT_OK, EXIT_REGRESSION, EXIT_INPUT, EXIT_INCONCLUSIVE = 0, 1, 2, 3


def add_parser(sub: "argparse._SubParsersAction") -> None:
    c = add_subcommand(sub, "compare", "compare two sets of runs (A = baseline, B = candidate)", [
        "ktstr compare ktstr-out/run-A ktstr-out/run-B",
        "bazel run @ktstr//:ktstr -- compare bazel-testlogs/sched/base_test bazel-testlogs/sched/new_test "
        "--json cmp.json",
    ], "Per-test, per-metric deltas between the runs of A and B, with an exact Mann-Whitney test over the "
       "runs of each side. A and B are result.json files or directories (run outputs, "
       "bazel-testlogs/<pkg>/<target> with --runs_per_test=N). Exit 0: no regression, 1: regression, "
       "2: bad input, 3: inconclusive.")
    c.add_argument("a", help="baseline: result.json, a run directory, or bazel-testlogs/<pkg>/<target>")
    c.add_argument("b", help="candidate, same forms")
    c.add_argument("--a", dest="more_a", action="append", default=[], help="another baseline path")
    c.add_argument("--b", dest="more_b", action="append", default=[], help="another candidate path")
    c.add_argument("--threshold", type=float, default=0.10,
                   help="relative change of the median that counts (default 0.10 = 10%%)")
    c.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    c.add_argument("--json", help="write the comparison as JSON here")
    c.add_argument("--plot-dir", help="write side-by-side distribution plots (PNG) here")
    c.add_argument("--all", action="store_true", help="also list stats that are not judged")
    c.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ktstr.compare.judge import Rule, compare
    from ktstr.compare.load import load_side
    from ktstr.compare.report import text_report

    try:
        rule = Rule(threshold=args.threshold, alpha=args.alpha)
        runs_a = load_side([args.a, *args.more_a])
        runs_b = load_side([args.b, *args.more_b])
    except KtstrError as exc:  # CompareInputError, RuleError
        print(f"ktstr compare: {exc}", file=sys.stderr)
        return EXIT_INPUT
    result = compare(runs_a, runs_b, rule)
    if not result.tests:
        print(f"ktstr compare: A and B have no test in common (A: {', '.join(result.only_a) or 'none'}; "
              f"B: {', '.join(result.only_b) or 'none'})", file=sys.stderr)
        return EXIT_INPUT
    print(text_report(result, show_all=args.all))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result.to_json(), indent=1, sort_keys=True) + "\n")
    if args.plot_dir:
        from ktstr.compare.plot import plot_all

        for p in plot_all(result, Path(args.plot_dir)):
            print(f"plot: {p}")
    return {"REGRESSION": EXIT_REGRESSION, "INCONCLUSIVE": EXIT_INCONCLUSIVE}.get(result.outcome, EXIT_OK)
