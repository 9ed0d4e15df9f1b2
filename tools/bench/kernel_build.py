#!/usr/bin/env python3
"""Cold vs warm (disk cache hit) build of a ktstr kernel target, side by side.

    tools/bench/kernel_build.py [--target //kernels:default] [--output-base DIR]

Uses a fresh, private disk cache so "cold" really compiles: `bazel clean`, build (cold),
`bazel clean`, build again (warm: every action must come from the disk cache). Prints the
wall times, Bazel's process summary of each build (the warm one must show no kernel
compile: only cache hits and internal actions), the bzImage sha256 of both, and the ratio.
With --output-base the builds run in a separate Bazel output base (its server is shut down
at the end), which also gives a second clean build to compare bzImage bytes against. The
cold build takes ~5-10 min on 2 cores and uses both.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_PROCESSES = re.compile(r"INFO: (\d+ process(?:es)?[^\n]*)")


class Bazel:
    def __init__(self, output_base: str | None) -> None:
        self.startup = [f"--output_base={output_base}"] if output_base else []

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(REPO / "bazelw"), *self.startup, *args]
        return subprocess.run(cmd, cwd=REPO, text=True, capture_output=True)


def bzimage_path(bazel: Bazel, target: str) -> Path:
    package, _, name = target.lstrip("/").partition(":")
    bin_dir = bazel("info", "bazel-bin").stdout.strip()
    return Path(bin_dir) / package / name / "bzImage"


def timed_build(bazel: Bazel, target: str, disk_cache: Path) -> tuple[float, str, str]:
    cleaned = bazel("clean")
    if cleaned.returncode != 0:
        sys.exit(f"bazel clean failed:\n{cleaned.stderr}")
    start = time.monotonic()
    proc = bazel("build", target, f"--disk_cache={disk_cache}")
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"bazel build {target} failed:\n{proc.stderr[-4000:]}")
    match = _PROCESSES.search(proc.stderr)
    digest = hashlib.sha256(bzimage_path(bazel, target).read_bytes()).hexdigest()
    return elapsed, match.group(1) if match else "(no process summary)", digest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default="//kernels:default")
    parser.add_argument("--output-base", help="run in this Bazel output base (e.g. /tmp/ktstr-bench-ob)")
    args = parser.parse_args()
    bazel = Bazel(args.output_base)
    try:
        with tempfile.TemporaryDirectory(prefix="ktstr-bench-disk-cache-") as cache:
            cold, cold_procs, cold_sha = timed_build(bazel, args.target, Path(cache))
            warm, warm_procs, warm_sha = timed_build(bazel, args.target, Path(cache))
    finally:
        if args.output_base:
            bazel("shutdown")
    print(f"{'build':<5} {'wall':>8}  {'bzImage sha256':<64}  processes")
    print(f"{'cold':<5} {cold:7.1f}s  {cold_sha}  {cold_procs}")
    print(f"{'warm':<5} {warm:7.1f}s  {warm_sha}  {warm_procs}")
    print(f"warm/cold = {warm / cold:.3f} (the cached build is {cold / warm:.0f}x faster)")
    return 0 if cold_sha == warm_sha else 1


if __name__ == "__main__":
    sys.exit(main())
