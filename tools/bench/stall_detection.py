#!/usr/bin/env python3
"""Time from a scheduler's attach to the stall verdict: host monitor vs the kernel's watchdog.

Runs one ktstr_test target's VM twice in this process, side by side under the same load:
once as the target is (the host monitor ends the run on its own verdict), once with the
monitor only watching (`fail_on_stall=false`), so the verdict is the kernel's sched_ext
watchdog. Both times are on the host clock, from the monitor's samples (resolution: one
sample period, 0.1 s under TCG):

    attach  = the first sample with sched_ext ENABLED
    verdict = the sample on which the monitor stopped the VM / the first sample after the
              attach where sched_ext is no longer ENABLED (the watchdog ejected it)

  tools/bench/stall_detection.py [--target //sched:scx_flatcg_test_known_0] [--runs 1]

Builds the target first (./bazelw build), then runs from its runfiles. Prints both times,
the target's wall times and the ratio (goal for flatcg's finding: host monitor under a third
of the 32.5 s the target took with the watchdog alone).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _runfiles(target: str) -> tuple[Path, Path]:
    package, name = target[2:].split(":", 1)
    bin_dir = Path(subprocess.run(["./bazelw", "info", "bazel-bin"], cwd=ROOT, check=True,
                                  capture_output=True, text=True).stdout.strip())
    runfiles = bin_dir / package / f"{name}.runfiles"
    workspace = next(p for p in runfiles.iterdir() if (p / package / f"{name}_ktstr_config.json").exists())
    return workspace, workspace / package / f"{name}_ktstr_config.json"


def _one(config: dict, workspace: Path, monitor: dict, out: Path) -> dict:
    from ktstr.cli.bazel_test import request_from_config
    from ktstr.host import runner

    cwd = os.getcwd()
    os.chdir(workspace)
    try:
        req = request_from_config({**config, "monitor": {**config.get("monitor", {}), **monitor}},
                                  {"TEST_TMPDIR": str(out / "tmp"), "TEST_UNDECLARED_OUTPUTS_DIR": str(out)})
        req.kernel_layout = req.kernel_layout and req.kernel_layout.resolve()
        report = runner.run(req)
    finally:
        os.chdir(cwd)
    mon = json.loads((out / "monitor.json").read_text())
    changes = mon.get("scx_state_changes", [])
    attach = next((c["t"] for c in changes if c["state"] == "ENABLED"), None)
    if monitor.get("fail_on_stall") == "false":
        verdict = next((c["t"] for c in changes if attach is not None and c["t"] > attach
                        and c["state"] != "ENABLED"), None)
    else:
        verdict = mon.get("stopped_at")
    outcome = report.outcomes[0]
    return {"wall": report.wall_s, "attach": attach, "verdict": verdict,
            "delay": None if attach is None or verdict is None else verdict - attach,
            "verdict_text": f"{outcome.verdict.value}: {outcome.reason[:110]}"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", default="//sched:scx_flatcg_test_known_0")
    p.add_argument("--runs", type=int, default=1, help="pairs of runs (alternating)")
    args = p.parse_args()
    subprocess.run(["./bazelw", "build", args.target], cwd=ROOT, check=True)
    workspace, config_path = _runfiles(args.target)
    config = json.loads(config_path.read_text())
    results: dict[str, list[dict]] = {"host monitor": [], "kernel watchdog": []}
    with tempfile.TemporaryDirectory(prefix="ktstr-stall-bench-") as tmp:
        for i in range(args.runs):
            for label, monitor in (("host monitor", {}), ("kernel watchdog", {"fail_on_stall": "false"})):
                r = _one(config, workspace, monitor, Path(tmp) / f"{label.replace(' ', '_')}{i}")
                results[label].append(r)
                delay = "n/a" if r["delay"] is None else f"{r['delay']:.1f} s"
                print(f"  run {i} {label:15s} wall {r['wall']:6.1f} s, attach->verdict {delay} "
                      f"({r['verdict_text']})", flush=True)
    print(f"\n{args.target}: time from the scheduler's attach to the stall verdict (median of {args.runs})")
    med = {}
    for label, rs in results.items():
        delays = [r["delay"] for r in rs if r["delay"] is not None]
        walls = [r["wall"] for r in rs]
        med[label] = statistics.median(delays) if delays else None
        print(f"  {label:15s} attach->verdict {'n/a' if med[label] is None else f'{med[label]:.1f} s':>8}   "
              f"target wall {statistics.median(walls):.1f} s")
    if med["host monitor"] and med["kernel watchdog"]:
        print(f"  ratio host monitor / kernel watchdog: {med['host monitor'] / med['kernel watchdog']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
