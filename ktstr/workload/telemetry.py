"""Per-worker telemetry, kept by the worker itself: progress gaps, CPU migrations (with
timestamps), wake-latency samples, work units, and /proc deltas (schedstat, NUMA pages)."""

from __future__ import annotations

import ctypes
import random
import time

from ktstr.workload import native
from ktstr.workload.types import MAX_MIGRATION_RECORDS, WorkerReport

MAX_WAKE_SAMPLES = 10000

_libc = ctypes.CDLL(None, use_errno=True)
_getcpu = _libc.sched_getcpu


class Telemetry:
    def __init__(self, report: WorkerReport) -> None:
        self.r = report
        self.start = time.monotonic()
        self.last = self.start
        self.cpu = _getcpu()
        self.cpus = {self.cpu}
        self._rng = random.Random(report.pid)

    def spin(self, n: int) -> None:
        """One spin unit of n iterations (native when libktstr_hot.so is there), counted
        in work_units."""
        native.spin(n)
        self.r.work_units += n
        self.r.hot_loop = native.IMPL

    def hot(self, units: int) -> None:
        """Work units of a native-or-Python hot loop other than spin (cache pass, matrix
        multiply) that just ran."""
        self.r.work_units += units
        self.r.hot_loop = native.IMPL

    def tick(self) -> None:
        """One outer-loop iteration: progress gap, CPU change, iteration count."""
        now = time.monotonic()
        gap = now - self.last
        cpu = _getcpu()
        if gap * 1000.0 > self.r.max_gap_ms:
            self.r.max_gap_ms = gap * 1000.0
            self.r.max_gap_cpu = cpu
            self.r.max_gap_at_ms = (now - self.start) * 1000.0
        if cpu != self.cpu:
            self.r.migrations += 1
            if len(self.r.migration_log) < MAX_MIGRATION_RECORDS:
                self.r.migration_log.append({"at_ms": round((now - self.start) * 1000.0, 3),
                                             "from_cpu": self.cpu, "to_cpu": cpu})
            self.cpu = cpu
            self.cpus.add(cpu)
        self.last = now
        self.r.iterations += 1

    def wake(self, latency_s: float) -> None:
        """A wake-latency observation; a uniform reservoir sample is kept."""
        self.r.wake_sample_total += 1
        samples = self.r.wake_latencies_us
        if len(samples) < MAX_WAKE_SAMPLES:
            samples.append(latency_s * 1e6)
        else:
            j = self._rng.randrange(self.r.wake_sample_total)
            if j < MAX_WAKE_SAMPLES:
                samples[j] = latency_s * 1e6

    def finish(self) -> None:
        self.r.cpus_used = sorted(self.cpus)


def read_schedstat() -> tuple[int, int, int] | None:
    """(cpu_time_ns, run_delay_ns, run_count) of this task, None without CONFIG_SCHED_INFO."""
    try:
        with open("/proc/self/schedstat") as f:
            cpu, delay, count = (int(x) for x in f.read().split()[:3])
    except (OSError, ValueError):
        return None
    return cpu, delay, count


def read_numa_pages() -> dict[str, int]:
    """Resident pages per NUMA node over this process's mappings (/proc/self/numa_maps)."""
    pages: dict[str, int] = {}
    try:
        with open("/proc/self/numa_maps") as f:
            for line in f:
                for tok in line.split()[2:]:
                    if tok.startswith("N") and "=" in tok:
                        node, _, n = tok[1:].partition("=")
                        if node.isdigit():
                            pages[node] = pages.get(node, 0) + int(n)
    except OSError:
        pass  # no CONFIG_NUMA: nothing to report
    return pages
