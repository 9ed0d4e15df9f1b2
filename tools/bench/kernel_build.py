#!/usr/bin/env python3
"""Cold vs warm (disk cache hit) build of a ktstr kernel target, side by side.

    tools/bench/kernel_build.py [--target //kernels:default]

Runs in a fresh, private disk cache so "cold" really compiles: `bazel clean`, build
(cold), `bazel clean`, build again (warm: every action must come from the disk cache).
Prints wall times, Bazel's process summary line of each build, and the ratio. The cold
build takes ~5 min on 2 cores and uses both.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_PROCESSES = re.compile(r"INFO: (\d+ process(?:es)?[^\n]*)")


def bazel(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO / "bazelw"), *args], cwd=REPO, text=True, capture_output=True)


def timed_build(target: str, disk_cache: Path) -> tuple[float, str]:
    cleaned = bazel("clean")
    if cleaned.returncode != 0:
        sys.exit(f"bazel clean failed:\n{cleaned.stderr}")
    start = time.monotonic()
    proc = bazel("build", target, f"--disk_cache={disk_cache}")
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"bazel build {target} failed:\n{proc.stderr[-4000:]}")
    match = _PROCESSES.search(proc.stderr)
    return elapsed, match.group(1) if match else "(no process summary)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default="//kernels:default")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ktstr-bench-disk-cache-") as cache:
        cold, cold_procs = timed_build(args.target, Path(cache))
        warm, warm_procs = timed_build(args.target, Path(cache))
    print(f"{'build':<6} {'wall':>9}  processes")
    print(f"{'cold':<6} {cold:8.1f}s  {cold_procs}")
    print(f"{'warm':<6} {warm:8.1f}s  {warm_procs}")
    print(f"warm/cold = {warm / cold:.3f} (cold is {cold / warm:.0f}x slower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
