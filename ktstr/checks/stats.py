"""Per-cgroup aggregates of worker reports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ktstr.workload.types import WorkerReport


def percentile(samples: list[float], p: float) -> float:
    """Nearest rank: sorted[ceil(n*p) - 1]; 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * p) - 1)]


def median(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2] if samples else 0.0


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
    total_migrations: int = 0
    migration_ratio: float = 0.0
    p99_wake_latency_us: float = 0.0
    median_wake_latency_us: float = 0.0
    wake_samples: int = 0
    incomplete_workers: int = 0

    @classmethod
    def from_reports(cls, name: str, reports: list[WorkerReport]) -> "CgroupStats":
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
        s.total_migrations = sum(r.migrations for r in reports)
        s.migration_ratio = s.total_migrations / s.total_iterations if s.total_iterations else 0.0
        s.p99_wake_latency_us = percentile(wakes, 0.99)
        s.median_wake_latency_us = median(wakes)
        s.wake_samples = len(wakes)
        s.incomplete_workers = sum(1 for r in reports if not r.completed)
        return s

    def wake_latency_tail_ratio(self) -> float:
        return self.p99_wake_latency_us / self.median_wake_latency_us if self.median_wake_latency_us else 0.0

    def as_metrics(self) -> dict[str, float]:
        """Numeric fields, prefixed with the cgroup name (for the result's stats map)."""
        return {f"{self.name}.{k}": float(v) for k, v in self.__dict__.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)}
