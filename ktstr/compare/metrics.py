"""Which test stats a comparison judges, and which direction is worse.

Scenario results carry per-cgroup stats named "<cgroup>.<field>" (ktstr/checks/stats.py).
The fields below are judged; every other numeric stat is shown but never called a
regression, since its better direction is not known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class MetricKind:
    field: str
    label: str
    lower_is_better: bool
    # Changes smaller than this (in the stat's own unit) are noise whatever their ratio:
    # 0.3 -> 0.5 points of spread is +66% and means nothing.
    floor: float
    unit: str


KINDS: dict[str, MetricKind] = {k.field: k for k in (
    MetricKind("spread", "fairness spread", True, 2.0, "pct points"),
    MetricKind("max_gap_ms", "max scheduling gap", True, 5.0, "ms"),
    MetricKind("p99_wake_latency_us", "p99 wake latency", True, 50.0, "us"),
    MetricKind("median_wake_latency_us", "median wake latency", True, 20.0, "us"),
    MetricKind("total_iterations", "throughput", False, 0.0, "iterations"),
)}


def kind_of(stat: str) -> Optional[MetricKind]:
    """"cg_0.p99_wake_latency_us" -> the p99 wake latency kind; None if not judged."""
    return KINDS.get(stat.rsplit(".", 1)[-1])
