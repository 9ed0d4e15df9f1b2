#!/usr/bin/env python3
"""Initramfs packing and boot benchmark; prints ratios measured side by side in one run.

1. Pack a 40 MB tree (the issue's goal: <= 1 s) and print time / goal.
2. Pack //initramfs:base's content with each compression and boot it under QEMU TCG to the
   probe init's marker (needs a kernel: --kernel, default bazel-bin/external/ktstr_kernels/default/bzImage).

    python3 tools/bench/initramfs_pack.py [--kernel PATH] [--no-boot]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ktstr.initramfs.cpio import Archive
from ktstr.initramfs import python_runtime

GOAL_S = 1.0
PROBE = Path(__file__).resolve().parents[2] / "tests/initramfs/python_probe_init.py"


def make_tree(root: Path, total_mb: int = 40) -> None:
    """A tree shaped like a Python runtime: many small files and a few large ones."""
    rnd = os.urandom(1 << 20)
    for i in range(2000):  # 2000 files x 10 KiB = ~20 MB
        d = root / f"pkg{i % 50}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"mod{i}.py").write_bytes(rnd[(i * 4096) % (1 << 19):][:10 * 1024])
    big = root / "lib"
    big.mkdir(exist_ok=True)
    for i in range(total_mb - 20):
        (big / f"blob{i}.so").write_bytes(rnd)


def pack_tree(root: Path, out: Path, compression: str) -> float:
    start = time.perf_counter()
    a = Archive()
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            a.add_file("/" + str(p.relative_to(root)), p)
    a.write(out, compression)
    return time.perf_counter() - start


def boot(kernel: Path, initrd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        ["qemu-system-x86_64", "-M", "pc,accel=tcg", "-smp", "2", "-m", "512", "-nographic",
         "-no-reboot", "-kernel", str(kernel), "-initrd", str(initrd),
         "-append", "console=ttyS0 panic=-1 reboot=t quiet PYTHONHASHSEED=0"],
        capture_output=True, timeout=180)
    wall = time.perf_counter() - start
    if b"KTSTR-PROBE-OK" not in proc.stdout:
        raise SystemExit(f"boot failed with {initrd.name}: {proc.stdout[-2000:].decode(errors='replace')}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", type=Path, default=Path("bazel-bin/external/ktstr_kernels/default/bzImage"))
    parser.add_argument("--no-boot", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_tree(tmp / "tree")
        size = sum(f.stat().st_size for f in (tmp / "tree").rglob("*") if f.is_file()) / 1e6
        print(f"pack {size:.0f} MB tree")
        for comp in ("none", "gzip"):
            t = pack_tree(tmp / "tree", tmp / f"t.{comp}", comp)
            print(f"  {comp:5s} {t:6.2f} s   ratio to {GOAL_S:.0f} s goal: {t / GOAL_S:.2f}")
        if args.no_boot:
            return 0
        if not args.kernel.exists():
            print(f"no kernel at {args.kernel}; build //kernels:default or pass --kernel")
            return 1
        print("guest image (python runtime + probe init), boot to marker under QEMU TCG")
        results = {}
        for comp in ("none", "gzip", "zstd"):
            a = Archive()
            a.add_standard_devices()
            python_runtime.add_runtime(a)
            pkg = Path(__file__).resolve().parents[2] / "ktstr"
            for src in sorted(pkg.rglob("*.py")):
                python_runtime.add_python_source(
                    a, f"{python_runtime.GUEST_LIB}/ktstr/{src.relative_to(pkg)}", str(src))
            a.add_file("/init", PROBE, 0o755)
            out = tmp / f"img.{comp}"
            t0 = time.perf_counter()
            a.write(out, comp)
            pack_s = time.perf_counter() - t0
            results[comp] = boot(args.kernel, out)
            print(f"  {comp:5s} size {out.stat().st_size / 1e6:6.1f} MB  write {pack_s:5.2f} s  "
                  f"boot {results[comp]:5.2f} s  ratio to none: {results[comp] / results['none']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
