#!/usr/bin/env python3
"""Wall time of the same work under qemu-tcg and vmm-nested, side by side in one run.

The engine policy rests on this ratio: `auto` on a host whose KVM cannot run Linux
(kvm-pvm) would pick vmm-nested (the project's C VMM on nested KVM inside an L1 under QEMU
TCG) only if vmm-nested / qemu-tcg <= 1.3; otherwise QEMU TCG stays (docs/vmm.md).

Two kinds of work, runs alternating between the engines so machine noise hits both; medians:

  boots (default): the same bzImage + busybox "topo" initramfs + topology, booted to power-off
    through each engine's Python API.
      tools/bench/engines.py --kernel K --l1-kernel L1 --l1-initramfs L1.cpio [--runs 3]
  Bazel targets: the same ktstr_test targets with --//rules:engine=qemu-tcg and =vmm-nested,
    test results uncached.
      tools/bench/engines.py --targets //sched:eevdf_test [--runs 1]

Prints each run, the medians and the ratio vmm-nested / qemu-tcg.
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

from ktstr.host.engines import BootSpec, ExitKind  # noqa: E402
from ktstr.host.engines.qemu import QemuEngine  # noqa: E402
from ktstr.host.engines.vmm_nested import L1Host, VmmNestedEngine  # noqa: E402
from ktstr.host.runner import BASE_CMDLINE  # noqa: E402
from ktstr.topology import Topology  # noqa: E402

ENGINES = ("qemu-tcg", "vmm-nested")
POLICY_RATIO = 1.3


def boot_once(engine, kernel: Path, initrd: Path, topo: str, out: Path) -> float:
    t = Topology.parse(topo)
    spec = BootSpec(kernel, (initrd,), BASE_CMDLINE, t, 256 * t.numa_nodes, 300.0,
                    out / "console.log", out / "result.bin", out / "work")
    start = time.monotonic()
    result = engine.run(spec)
    wall = time.monotonic() - start
    if result.exit_kind != ExitKind.POWEROFF or f"NCPU {t.cpus}" not in result.console_tail.decode(errors="replace"):
        raise SystemExit(f"{engine.name}: the boot did not finish as it should: {result.exit_kind}: {result.detail}")
    return wall


def bazel_once(target: str, engine: str) -> float:
    cmd = [str(ROOT / "bazelw"), "test", target, f"--//rules:engine={engine}", "--nocache_test_results",
           "--test_output=errors"]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{target} under {engine} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}"
                         f"{proc.stderr[-2000:]}")
    return wall


def busybox_topo(out: Path) -> Path:
    initrd = out / "topo.cpio"
    subprocess.run([sys.executable, str(ROOT / "tests/host/busybox_initramfs.py"), "topo", "/bin/busybox",
                    str(initrd)], check=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return initrd


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--targets", nargs="*", default=[], help="ktstr_test targets (Bazel mode)")
    p.add_argument("--kernel", type=Path, help="L2 bzImage (boot mode)")
    p.add_argument("--initramfs", type=Path, help="L2 initramfs (default: busybox topo)")
    p.add_argument("--l1-kernel", type=Path, help="//kernels:l1_host's bzImage (boot mode)")
    p.add_argument("--l1-initramfs", type=Path, help="//vmm:l1_initramfs (boot mode)")
    p.add_argument("--topology", default="1n2l2c1t")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()

    times: dict[str, list[float]] = {e: [] for e in ENGINES}
    with tempfile.TemporaryDirectory(prefix="ktstr-bench-engines-") as tmp:
        out = Path(tmp)
        if args.targets:
            work = [(t, e) for t in args.targets for e in ENGINES]
            for run in range(args.runs):
                for target, engine in work:
                    wall = bazel_once(target, engine)
                    times[engine].append(wall)
                    print(f"run {run + 1}: {target} {engine:10s} {wall:7.1f} s", flush=True)
        else:
            if not (args.kernel and args.l1_kernel and args.l1_initramfs):
                p.error("boot mode needs --kernel, --l1-kernel and --l1-initramfs (or use --targets)")
            initrd = args.initramfs or busybox_topo(out)
            engines = {"qemu-tcg": QemuEngine(accel="tcg"),
                       "vmm-nested": VmmNestedEngine(L1Host(args.l1_kernel, args.l1_initramfs))}
            for run in range(args.runs):
                for name in ENGINES:
                    wall = boot_once(engines[name], args.kernel, initrd, args.topology, out / f"{name}-{run}")
                    times[name].append(wall)
                    print(f"run {run + 1}: boot {args.topology} {name:10s} {wall:7.1f} s", flush=True)
    # Several targets make one run (in order, per run): compare the sums per run.
    chunk = max(1, len(args.targets))
    per_run = {e: [sum(times[e][i * chunk:(i + 1) * chunk]) for i in range(args.runs)] for e in ENGINES}
    med = {e: statistics.median(per_run[e]) for e in ENGINES}
    ratio = med["vmm-nested"] / med["qemu-tcg"]
    print(f"median qemu-tcg {med['qemu-tcg']:.1f} s, vmm-nested {med['vmm-nested']:.1f} s")
    print(f"ratio vmm-nested / qemu-tcg = {ratio:.2f} (policy: auto picks vmm-nested on kvm-pvm if <= "
          f"{POLICY_RATIO}: {'yes' if ratio <= POLICY_RATIO else 'no, QEMU TCG stays'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
