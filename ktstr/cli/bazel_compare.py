"""What a ktstr_compare_test target runs: both sides' VM runs, interleaved, then the comparison.

The two sides are ordinary ktstr_test configs (the rule's JSON, as a ktstr_test would read
it). Runs alternate A, B, A, B, ... so a change in the host's load during the test hits both
sides alike. Every run keeps its outputs (result.json, console, report) under
$TEST_UNDECLARED_OUTPUTS_DIR/{a,b}/run<i>/, next to compare.txt, compare.json and the plots.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from ktstr.cli.bazel_test import request_from_config
from ktstr.cli.session import execute
from ktstr.wire.target_config import read_target_config


def _side_env(env: dict[str, str]) -> dict[str, str]:
    # Sharding and --test_filter address the compare target, not the sides' test lists.
    return {k: v for k, v in env.items()
            if k not in ("TEST_TOTAL_SHARDS", "TEST_SHARD_INDEX", "TESTBRIDGE_TEST_ONLY")}


def main(argv: Optional[Sequence[str]] = None) -> int:
    from ktstr.compare.judge import Rule, compare
    from ktstr.compare.load import load_side
    from ktstr.compare.plot import plot_all
    from ktstr.compare.report import text_report

    p = argparse.ArgumentParser(prog="ktstr_compare_test")
    p.add_argument("--baseline", required=True, help="config JSON of side A")
    p.add_argument("--candidate", required=True, help="config JSON of side B")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threshold", type=float, default=0.10)
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--expect-regression", action="store_true",
                   help="pass only if B regresses against A (a fixture made slower on purpose)")
    args = p.parse_args(argv)
    env = dict(os.environ)
    if env.get("TEST_SHARD_STATUS_FILE"):
        Path(env["TEST_SHARD_STATUS_FILE"]).touch()
    tmp = Path(env.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="ktstr-compare-"))
    out = Path(env.get("TEST_UNDECLARED_OUTPUTS_DIR") or (tmp / "outputs"))
    rule = Rule(threshold=args.threshold, alpha=args.alpha)
    sides = []
    for label, path in (("a", args.baseline), ("b", args.candidate)):
        cfg = read_target_config(path)
        req = request_from_config(cfg, _side_env(env))
        assert req is not None  # None only for an empty Bazel shard, and sharding is stripped
        sides.append((label, cfg, req))
    for i in range(args.runs):
        for label, cfg, req in sides:
            run_req = dataclasses.replace(req, out_dir=out / label / f"run{i}",
                                          work_dir=tmp / label / f"run{i}")
            print(f"ktstr_compare_test: {label.upper()} = {cfg['suite']}, run {i + 1}/{args.runs}", flush=True)
            execute(run_req, None, None)  # a failed run is data (a verdict regression), not the end
    result = compare(load_side([out / "a"]), load_side([out / "b"]), rule)
    text = text_report(result)
    (out / "compare.txt").write_text(text + "\n")
    (out / "compare.json").write_text(json.dumps(result.to_json(), indent=1, sort_keys=True) + "\n")
    plots = plot_all(result, out)
    print(text)
    for path in plots:
        print(f"plot: {path.name} (in the test's outputs.zip)")
    if args.expect_regression:
        if result.outcome == "REGRESSION":
            print("ktstr_compare_test: the candidate regressed, as expected")
            return 0
        print(f"ktstr_compare_test: expected a regression of B against A, got {result.outcome}",
              file=sys.stderr)
        return 1
    return 0 if result.outcome == "OK" else 1
