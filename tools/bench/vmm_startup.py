#!/usr/bin/env python3
"""VMM start-up benchmark (synthetic guests, so it runs where KVM cannot boot Linux).

Prints, side by side in one run (medians over --runs):
  - ktstr_vm_run() entry -> first KVM_RUN (setup_us: /dev/kvm, VM, memory, vCPUs, CPUID,
    long-mode registers), and the whole ktstr-vmm process wall time (exec to exit), for 1 and
    8 vCPUs;
  - time for 8 vCPUs to all run their guest code in long mode and report over COM1
    (run_us of the CPUID probe on 1n1l8c1t), and its ratio to 1 vCPU;
  - with --kernel/--initrd: the Linux boot path's setup (bzImage + initrd load, boot_params,
    ACPI, irqchip + PIT, vCPUs) -> first KVM_RUN, next to the synthetic guest's.

    ./bazelw build //vmm:ktstr-vmm //vmm:guest_cpuid_probe //kernels:default //initramfs:base
    python3 tools/bench/vmm_startup.py [--runs 20] [--kernel bazel-bin/external/ktstr_kernels/default/bzImage
        --initrd bazel-bin/initramfs/base.cpio]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VMM = ROOT / "bazel-bin/vmm/ktstr-vmm"
GUEST = ROOT / "bazel-bin/vmm/tests/guests/cpuid_probe.bin"


def once(topo: str, guest: list[str] | None = None) -> tuple[float, float, float]:
    start = time.perf_counter()
    # A Linux guest is stopped by the watchdog right after it starts: only setup is measured.
    args = guest or [str(GUEST)]
    proc = subprocess.run([str(VMM), "--topology", topo, "--memory-mib", "512", "--timeout-ms", "1", *args]
                          if guest else [str(VMM), "--topology", topo, *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    rep = dict(line.split("=", 1) for line in proc.stderr.splitlines() if "=" in line)
    if proc.returncode != (124 if guest else 0):
        raise SystemExit(f"ktstr-vmm failed: {proc.stderr}")
    return int(rep["setup_us"]) / 1000, int(rep["run_us"]) / 1000, wall * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--kernel", type=Path)
    parser.add_argument("--initrd", type=Path)
    args = parser.parse_args()
    if not VMM.exists() or not GUEST.exists():
        print("build first: ./bazelw build //vmm:ktstr-vmm //vmm:guest_cpuid_probe")
        return 1
    results = {"1n1l1c1t": [], "1n1l8c1t": []}
    linux = {"1n1l1c1t": [], "1n1l8c1t": []} if args.kernel else {}
    linux_args = ["--kernel", str(args.kernel)] + (["--initrd", str(args.initrd)] if args.initrd else [])
    for _ in range(args.runs):
        for topo in results:  # alternate, so machine noise hits both
            results[topo].append(once(topo))
            if linux:
                linux[topo].append(once(topo, linux_args))
    med = {t: [statistics.median(x[i] for x in r) for i in range(3)] for t, r in results.items()}
    print(f"{'topology':10s} {'setup->KVM_RUN ms':>17s} {'guest run ms':>13s} {'process wall ms':>16s}")
    for t, (setup, run, wall) in med.items():
        print(f"{t:10s} {setup:17.2f} {run:13.2f} {wall:16.2f}")
    print(f"8 vCPUs vs 1: setup x{med['1n1l8c1t'][0] / med['1n1l1c1t'][0]:.2f}, "
          f"all in long mode and reported x{med['1n1l8c1t'][1] / med['1n1l1c1t'][1]:.2f}")
    if linux:
        lmed = {t: statistics.median(x[0] for x in r) for t, r in linux.items()}
        size = sum(p.stat().st_size for p in (args.kernel, args.initrd) if p) / 2**20
        print(f"Linux boot path ({size:.0f} MiB kernel + initrd): setup->KVM_RUN "
              + ", ".join(f"{t} {v:.2f} ms (x{v / med[t][0]:.1f} the synthetic guest)" for t, v in lmed.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
