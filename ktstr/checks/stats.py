"""Per-cgroup aggregates of worker reports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from ktstr.workload.types import WorkerReport


def percentile(samples: list[float], p: float) -> float:
    """Nearest rank: sorted[ceil(n*p) - 1]; 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * p) - 1)]


def median(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2] if samples else 0.0


def cv(values: list[float]) -> float:
    """Population coefficient of variation (stddev / mean); 0.0 below 2 values or mean 0."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    if mean <= 0:
        return 0.0
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) / mean


@dataclass
class CgroupStats:
    name: str = ""
    num_workers: int = 0
    num_cpus: int = 0
    cpus_used: list[int] = field(default_factory=list)
    total_iterations: int = 0
    min_iterations: int = 0
    avg_off_cpu_pct: float = 0.0
    min_off_cpu_pct: float = 0.0
    max_off_cpu_pct: float = 0.0
    spread: float = 0.0
    max_gap_ms: float = 0.0
    max_gap_cpu: int = -1
    max_start_delay_ms: float = 0.0  # longest wait of a worker from its start command to running
    total_migrations: int = 0
    migration_ratio: float = 0.0
    p99_wake_latency_us: float = 0.0
    median_wake_latency_us: float = 0.0
    wake_samples: int = 0
    wake_latency_cv: float = 0.0     # pooled over the cgroup's samples
    total_work_units: int = 0
    throughput_cv: float = 0.0       # CV of work units per CPU-second across workers
    min_work_rate: float = 0.0       # lowest work units per CPU-second of a worker
    min_iteration_rate: float = 0.0  # lowest iterations per wall second of a worker
    mean_run_delay_us: float = 0.0   # schedstat: time runnable but waiting, per worker
    worst_run_delay_us: float = 0.0
    page_locality: float = 1.0       # lowest share of a worker's pages on the nodes it ran on
    incomplete_workers: int = 0
    native_workers: int = 0          # workers whose hot loops ran native (libktstr_hot.so)
    python_workers: int = 0          # ... and the ones that fell back to Python

    @classmethod
    def from_reports(cls, name: str, reports: list[WorkerReport],
                     cpu_nodes: Optional[dict[int, int]] = None) -> "CgroupStats":
        """`cpu_nodes` (cpu -> NUMA node) enables page_locality."""
        s = cls(name=name, num_workers=len(reports))
        if not reports:
            return s
        cpus = sorted({c for r in reports for c in r.cpus_used})
        off = [r.off_cpu_pct for r in reports]
        wakes = [w for r in reports for w in r.wake_latencies_us]
        worst = max(reports, key=lambda r: r.max_gap_ms)
        s.cpus_used, s.num_cpus = cpus, len(cpus)
        s.total_iterations = sum(r.iterations for r in reports)
        s.min_iterations = min(r.iterations for r in reports)
        s.avg_off_cpu_pct = sum(off) / len(off)
        s.min_off_cpu_pct, s.max_off_cpu_pct = min(off), max(off)
        s.spread = s.max_off_cpu_pct - s.min_off_cpu_pct
        s.max_gap_ms, s.max_gap_cpu = worst.max_gap_ms, worst.max_gap_cpu
        s.max_start_delay_ms = max(r.start_delay_ns for r in reports) / 1e6
        s.total_migrations = sum(r.migrations for r in reports)
        s.migration_ratio = s.total_migrations / s.total_iterations if s.total_iterations else 0.0
        s.p99_wake_latency_us = percentile(wakes, 0.99)
        s.median_wake_latency_us = median(wakes)
        s.wake_samples = len(wakes)
        s.wake_latency_cv = cv(wakes)
        s.total_work_units = sum(r.work_units for r in reports)
        rates = [r.work_units / (r.cpu_time_ns / 1e9) for r in reports if r.cpu_time_ns > 0]
        s.throughput_cv = cv(rates)
        s.min_work_rate = min(rates) if rates else 0.0
        iter_rates = [r.iterations / (r.wall_time_ns / 1e9) for r in reports if r.wall_time_ns > 0]
        s.min_iteration_rate = min(iter_rates) if iter_rates else 0.0
        delays = [r.schedstat_run_delay_ns / 1e3 for r in reports if r.schedstat_run_delay_ns >= 0]
        if delays:
            s.mean_run_delay_us, s.worst_run_delay_us = sum(delays) / len(delays), max(delays)
        if cpu_nodes:
            s.page_locality = min((_locality(r, cpu_nodes) for r in reports), default=1.0)
        s.incomplete_workers = sum(1 for r in reports if not r.completed)
        s.native_workers = sum(1 for r in reports if r.hot_loop == "native")
        s.python_workers = sum(1 for r in reports if r.hot_loop == "python")
        return s

    def iterations_per_worker(self) -> float:
        return self.total_iterations / self.num_workers if self.num_workers else 0.0

    def wake_latency_tail_ratio(self) -> float:
        return self.p99_wake_latency_us / self.median_wake_latency_us if self.median_wake_latency_us else 0.0

    def as_metrics(self) -> dict[str, float]:
        """Numeric fields, prefixed with the cgroup name (for the result's stats map)."""
        return {f"{self.name}.{k}": float(v) for k, v in self.__dict__.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _locality(r: WorkerReport, cpu_nodes: dict[int, int]) -> float:
    """Share of the worker's resident pages on the NUMA nodes of the CPUs it ran on."""
    total = sum(r.numa_pages.values())
    if not total:
        return 1.0
    local = {str(cpu_nodes[c]) for c in r.cpus_used if c in cpu_nodes}
    return sum(n for node, n in r.numa_pages.items() if node in local) / total
