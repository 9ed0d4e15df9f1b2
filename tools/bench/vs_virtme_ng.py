#!/usr/bin/env python3
"""ktstr's one-liner against virtme-ng on the same bzImage and the same commands, under QEMU
TCG, side by side in one run (runs alternate, so machine noise hits both).

  ktstr:  python -m ktstr.cli shell --kernel K --initramfs base.cpio --cpus N --memory M --exec CMD
  vng:    vng --run K --disable-kvm --force-initramfs --cpus N --memory M --exec CMD

The kernel must suit both: //kernels:vng (ktstr.kconfig + vng.kconfig: virtio-pci and 9p
for vng's shared root). Build it once: `./bazelw build //kernels:vng //initramfs:base`.
virtme-ng comes from PyPI (`pip install virtme-ng`); give its `vng` with --vng. vng needs the
host's udev to find its script ports (`apt install udev`; without it the command's status is
lost: exit 255), and --force-initramfs: without an initramfs this kernel panics before init,
its 9p root not mounted ("9pnet_virtio: no channels available for device", seen 2026-12-07;
likely because the kernel has no CONFIG_BLOCK, not established).

Two commands by default: `true` (start-up and power-off: what a one-liner costs on its own)
and a small CPU-bound Python loop (the guest's python3 in both: ktstr's initramfs carries
the host's, vng shares the host's root). Prints every run, the medians and, per command,
the ratio ktstr / vng (the goal of issue 23: at most 0.5).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("true", "python3 -c 'print(sum(range(3_000_000)))'")
GOAL = 0.5


def ktstr_cmd(args: argparse.Namespace, command: str) -> list[str]:
    return [sys.executable, "-m", "ktstr.cli", "shell", "--kernel", str(args.kernel), "--initramfs",
            str(args.initramfs), "--cpus", str(args.cpus), "--memory", args.memory, "--engine", "qemu-tcg",
            "--exec", command]


def vng_cmd(args: argparse.Namespace, command: str) -> list[str]:
    return [args.vng, "--run", str(args.kernel), "--disable-kvm", "--force-initramfs", "--cpus", str(args.cpus),
            "--memory", args.memory, "--exec", command]


def timed(tool: str, argv: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{tool} failed (exit {proc.returncode}): {' '.join(argv)}\n"
                         f"{proc.stdout.decode(errors='replace')[-2000:]}\n{proc.stderr.decode(errors='replace')[-3000:]}")
    return wall


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", type=Path, default=ROOT / "bazel-bin/external/ktstr_kernels/vng/bzImage")
    p.add_argument("--initramfs", type=Path, default=ROOT / "bazel-bin/initramfs/base.cpio")
    p.add_argument("--vng", default=shutil.which("vng") or "vng", help="virtme-ng's vng (pip install virtme-ng)")
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--memory", default="1G")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--command", action="append", help="a command to time (repeatable; default: true and a "
                                                      "CPU-bound python3 loop)")
    args = p.parse_args()
    needs = ((args.kernel, "./bazelw build //kernels:vng"), (args.initramfs, "./bazelw build //initramfs:base"))
    for path, how in needs:
        if not path.is_file():
            raise SystemExit(f"{path} is not there: {how}")
    if not shutil.which(args.vng):
        raise SystemExit(f"virtme-ng's {args.vng!r} is not on PATH: pip install virtme-ng, or give --vng")
    tools = {"ktstr": ktstr_cmd, "vng": vng_cmd}
    print(f"kernel {args.kernel}, {args.cpus} CPUs, {args.memory}, QEMU TCG, {args.runs} runs each, alternating")
    ratios = []
    for command in args.command or COMMANDS:
        times: dict[str, list[float]] = {t: [] for t in tools}
        for run in range(args.runs):
            order = list(tools) if run % 2 == 0 else list(reversed(tools))  # neither always goes first
            for tool in order:
                wall = timed(tool, tools[tool](args, command))
                times[tool].append(wall)
                print(f"  run {run + 1}: {tool:5s} {wall:6.2f} s  {command}", flush=True)
        med = {t: statistics.median(v) for t, v in times.items()}
        ratio = med["ktstr"] / med["vng"]
        ratios.append(ratio)
        print(f"{command}: median ktstr {med['ktstr']:.2f} s, vng {med['vng']:.2f} s, ratio ktstr / vng = "
              f"{ratio:.2f} (goal <= {GOAL})", flush=True)
    print(f"ratios: {', '.join(f'{r:.2f}' for r in ratios)}; goal {'met' if max(ratios) <= GOAL else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
