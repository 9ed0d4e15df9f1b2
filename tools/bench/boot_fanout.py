#!/usr/bin/env python3
"""A fresh boot against a start from a snapshot (ktstr.host.snapshot), side by side in one run.

The same request both ways: the same bzImage, base initramfs, topology and one test that
does nothing, through the real runner, so each figure is a whole VM: boot (or restore),
the agent's run.json, the test, RunEnd, power-off. Runs alternate so machine noise hits
both; medians of --runs (5). The template's one boot to its ready point is printed apart:
fan-out pays it once per snapshot key.

    flock -o /tmp/ktstr-agents-vm.lock tools/bench/boot_fanout.py \\
        [--kernel bazel-bin/external/ktstr_kernels/default/bzImage] [--initramfs bazel-bin/initramfs/base.cpio] \\
        [--topology 1n1l2c1t] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ktstr.host import runner  # noqa: E402
from ktstr.host.discovery import list_tests  # noqa: E402
from ktstr.host.engines import Engine  # noqa: E402
from ktstr.host.engines.qemu import QemuEngine  # noqa: E402
from ktstr.host.jobs import Scenarios  # noqa: E402
from ktstr.host.request import RunRequest  # noqa: E402
from ktstr.host.snapshot import Fanout  # noqa: E402
from ktstr.wire.status import Status  # noqa: E402

NOOP = '''
from ktstr import ktstr_test
from ktstr.checks import AssertResult


@ktstr_test(duration=0.1)
def noop(ctx):
    return AssertResult()
'''


def first_byte(path: Path, start: float, done: threading.Event, seen: list[float]) -> None:
    """When the result stream's first byte (the agent's Hello) reached the host."""
    while not done.is_set():
        if path.is_file() and path.stat().st_size:
            seen.append(time.monotonic() - start)
            return
        time.sleep(0.002)


def once(engine: Engine, req: RunRequest) -> tuple[float, float]:
    """(start to the agent's first frame, the engine's wall time) of one VM, which must PASS."""
    done, seen = threading.Event(), []
    watch = threading.Thread(target=first_byte, args=(req.out_dir / "result-stream.bin", time.monotonic(), done, seen))
    watch.start()
    try:
        report = runner.run(req, engine, hook=None)
    finally:
        done.set()
        watch.join()
    bad = [f"{o.name}: {o.verdict.value}: {o.reason}" for o in report.outcomes if o.verdict != Status.PASS]
    if bad or len(report.boots) != 1 or not seen:
        raise SystemExit(f"{engine.name}: the run did not pass: {bad or report.boots}")
    return seen[0], report.boots[0].wall_s


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", type=Path, default=ROOT / "bazel-bin/external/ktstr_kernels/default/bzImage")
    p.add_argument("--initramfs", type=Path, default=ROOT / "bazel-bin/initramfs/base.cpio")
    p.add_argument("--topology", default="1n1l2c1t")
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    for path in (args.kernel, args.initramfs):
        if not path.is_file():
            raise SystemExit(f"{path} is missing: ./bazelw build //kernels:default //initramfs:base first")
    with tempfile.TemporaryDirectory(prefix="ktstr-fanout-bench-") as tmp:
        work = Path(tmp)
        src = work / "noop_bench.py"
        src.write_text(NOOP)
        qemu = QemuEngine("tcg")
        fanout = Fanout(qemu, work / "snapshots")

        def request(i: int, how: str) -> RunRequest:
            return RunRequest(suite="fanout_bench", kernel=args.kernel, initrds=[args.initramfs],
                              payload=Scenarios(list_tests(src)), topology=args.topology, timeout_s=120.0,
                              out_dir=work / f"{how}{i}" / "out", work_dir=work / f"{how}{i}" / "work")

        start = time.monotonic()
        once(fanout, request(0, "template"))  # makes the snapshot (and runs one clone)
        [snap] = fanout.snapshots.values()
        print(f"template: {time.monotonic() - start:.2f} s for the snapshot and its first clone "
              f"(boot to the ready point {snap.boot_s:.2f} s)", flush=True)
        boots, clones = [], []
        for i in range(1, args.runs + 1):
            boots.append(once(qemu, request(i, "boot")))
            clones.append(once(fanout, request(i, "clone")))
            print(f"run {i}: boot {boots[-1][0]:.2f} s to the first frame, {boots[-1][1]:.2f} s the VM; "
                  f"snapshot start {clones[-1][0]:.2f} s, {clones[-1][1]:.2f} s", flush=True)
    for what, i in (("to the agent's first frame", 0), ("whole VM (noop test, power-off)", 1)):
        boot, clone = statistics.median(b[i] for b in boots), statistics.median(c[i] for c in clones)
        print(f"median of {args.runs}, {what}: boot {boot:.2f} s, snapshot start {clone:.2f} s, "
              f"ratio snapshot/boot {clone / boot:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
