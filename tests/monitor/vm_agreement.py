"""Inside the VM: a known load (3 spinners pinned to CPU 1, 1 to CPU 0) and the guest's own
view of its run queues (/sys/kernel/debug/sched/debug, read every 0.1 s from CPU 0), reported
as stats for the host to compare with what its monitor read from guest memory."""

import os
import re
import signal
import statistics
import time

from ktstr.checks.result import AssertResult
from ktstr.scenario import ktstr_test

_CPU = re.compile(r"^cpu#(\d+)")
_FIELD = re.compile(r"^\s+\.(nr_running|curr->pid)\s+:\s+(-?\d+)")


def _guest_view() -> dict[int, dict[str, int]]:
    view: dict[int, dict[str, int]] = {}
    cpu = None
    with open("/sys/kernel/debug/sched/debug") as f:
        for line in f:
            m = _CPU.match(line)
            if m:
                cpu = int(m.group(1))
                view[cpu] = {}
                continue
            m = _FIELD.match(line)
            if m and cpu is not None and m.group(1) not in view[cpu]:
                view[cpu][m.group(1)] = int(m.group(2))
    return view


def _spinner(cpu: int) -> int:
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {cpu})
        while True:
            pass
    return pid


@ktstr_test(llcs=1, cores=2, duration=4.0)
def monitor_agreement(ctx):
    os.sched_setaffinity(0, {0})
    pids = {1: [_spinner(1) for _ in range(3)], 0: [_spinner(0)]}
    try:
        time.sleep(0.5)  # let them settle on their CPUs
        nr = {0: [], 1: []}
        curr1 = []
        end = time.monotonic() + ctx.duration
        while time.monotonic() < end:
            view = _guest_view()
            for cpu in (0, 1):
                nr[cpu].append(view[cpu]["nr_running"])
            curr1.append(view[1]["curr->pid"])
            time.sleep(0.1)
    finally:
        for group in pids.values():
            for pid in group:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    stats = {
        "guest_samples": float(len(nr[0])),
        "guest_nr_running_cpu0": float(statistics.median(nr[0])),
        "guest_nr_running_cpu1": float(statistics.median(nr[1])),
        "guest_curr_is_spinner_cpu1": sum(p in pids[1] for p in curr1) / max(1, len(curr1)),
    }
    for cpu, group in pids.items():
        for i, pid in enumerate(group):
            stats[f"spinner_pid_cpu{cpu}_{i}"] = float(pid)
    return AssertResult(stats=stats)
