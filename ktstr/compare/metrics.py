"""Which test stats a comparison judges, and which direction is worse.

Scenario results carry per-cgroup stats named "<cgroup>.<field>" (ktstr/checks/stats.py).
A comparison judges a few per-test aggregates of them (the worst cgroup's fairness spread,
gap and wake latencies, and the summed throughput): few judged metrics keep the
multiple-comparison correction (judge.py) from demanding many runs, and the worst cgroup
is what a regression shows up in. Every raw stat is still shown (`--all`), never judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class MetricKind:
    field: str
    label: str
    lower_is_better: bool
    # Changes smaller than this (in the stat's own unit) are noise whatever their ratio:
    # 0.3 -> 0.5 points of spread is +66% and means nothing.
    floor: float
    unit: str
    aggregate: str  # "worst" (max for lower-is-better) or "sum"


KINDS: dict[str, MetricKind] = {k.field: k for k in (
    MetricKind("spread", "fairness spread", True, 2.0, "pct points", "worst"),
    MetricKind("max_gap_ms", "max scheduling gap", True, 5.0, "ms", "worst"),
    MetricKind("p99_wake_latency_us", "p99 wake latency", True, 50.0, "us", "worst"),
    MetricKind("median_wake_latency_us", "median wake latency", True, 20.0, "us", "worst"),
    MetricKind("total_iterations", "throughput", False, 0.0, "iterations", "sum"),
)}

_AGGREGATE: dict[str, Callable[[list[float]], float]] = {"worst": max, "sum": sum}


def kind_of(stat: str) -> Optional[MetricKind]:
    """"worst.p99_wake_latency_us" -> the p99 wake latency kind; None if not judged."""
    prefix, _, field = stat.rpartition(".")
    kind = KINDS.get(field)
    return kind if kind is not None and prefix == kind.aggregate else None


def judged_stats(stats: dict[str, float]) -> dict[str, float]:
    """The per-test aggregates: "worst.<field>" over the cgroups (wake latencies only over
    cgroups that had wake-ups: a spinner's 0 would hide nothing), "sum.total_iterations"."""
    out: dict[str, float] = {}
    for field, kind in KINDS.items():
        values = [v for k, v in stats.items() if k.rpartition(".")[2] == field and k.count(".") == 1]
        bad = [v for v in values if not math.isfinite(v)]
        if bad:  # max() and sum() would hide it or depend on the order: keep it, the judge reports it
            out[f"{kind.aggregate}.{field}"] = bad[0]
            continue
        if kind.field.endswith("wake_latency_us"):
            values = [v for v in values if v > 0]
        if values:
            out[f"{kind.aggregate}.{field}"] = _AGGREGATE[kind.aggregate](values)
    return out
