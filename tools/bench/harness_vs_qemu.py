#!/usr/bin/env python3
"""Harness wall time vs a raw QEMU command booting the same kernel + initramfs.

Both sides boot the same bzImage and the same initramfs with the same topology and memory,
run the same payload (the guest's /init), and end when the guest powers off. The harness side
is the whole `ktstr run` path: test listing, per-run layer, initrd concatenation, engine,
console capture, frame decoding, evaluation, JUnit + sidecar + report. Runs alternate
(raw, harness, raw, harness, ...) so machine noise hits both; medians are compared.

  tools/bench/harness_vs_qemu.py --kernel bzImage [--initramfs base.cpio] [--runs 5]

Without --initramfs it builds the busybox "topo" payload (prints the topology, powers off).
Prints the ratio harness/raw (goal: <= 1.10).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ktstr.host.engines.qemu import TCG_CPU  # noqa: E402

CMDLINE = "console=ttyS0 reboot=t panic=-1 loglevel=5 printk.time=1"
TEST_SOURCE = ROOT / "tests/host/e2e/harness_cases.py"


def raw_qemu(kernel: Path, initrd: Path, out: Path, cpus: int, mem: int) -> float:
    cmd = ["qemu-system-x86_64", "-M", "pc,accel=tcg", "-cpu", TCG_CPU, "-smp", str(cpus),
           "-m", f"{mem}M", "-nodefaults", "-no-user-config", "-nographic", "-vga", "none",
           "-serial", f"file:{out / 'raw-console.log'}", "-serial", f"file:{out / 'raw-com2.bin'}",
           "-no-reboot", "-kernel", str(kernel), "-initrd", str(initrd), "-append", CMDLINE]
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def harness(kernel: Path, initrd: Path, out: Path, cpus: int, mem: int) -> float:
    cmd = [sys.executable, "-m", "ktstr.cli", "run", "--kernel", str(kernel), "--initramfs", str(initrd),
           "--topology", f"1n1l{cpus}c1t", "--memory-mib", str(mem), "--engine", "qemu-tcg",
           "--out", str(out / "harness"), "--junit", str(out / "harness" / "junit.xml"), str(TEST_SOURCE)]
    start = time.monotonic()
    # The verdict does not matter here (a busybox payload reports no results); the time does.
    subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return time.monotonic() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", required=True, type=Path)
    p.add_argument("--initramfs", type=Path)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--memory-mib", type=int, default=512)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="ktstr-bench-") as tmp:
        out = Path(tmp)
        initrd = args.initramfs
        if initrd is None:
            initrd = out / "topo.cpio"
            subprocess.run([sys.executable, str(ROOT / "tests/host/busybox_initramfs.py"), "topo",
                            "/bin/busybox", str(initrd)], check=True, env={"PYTHONPATH": str(ROOT)})
        raw_times, harness_times = [], []
        for i in range(args.runs):
            raw_times.append(raw_qemu(args.kernel, initrd, out, args.cpus, args.memory_mib))
            harness_times.append(harness(args.kernel, initrd, out, args.cpus, args.memory_mib))
            print(f"run {i + 1}: raw {raw_times[-1]:.2f} s, harness {harness_times[-1]:.2f} s", flush=True)
        raw, har = statistics.median(raw_times), statistics.median(harness_times)
        print(f"raw qemu median   {raw:.2f} s")
        print(f"harness median    {har:.2f} s")
        print(f"ratio harness/raw {har / raw:.3f} (goal <= 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
