"""Assert: the checks a scenario's workers must satisfy, in three mergeable layers
(defaults -> scheduler -> test; for each field the last value that is not None wins, so a
later layer can turn a check off with False or loosen a bound)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Optional

from ktstr.checks.claims import Verdict
from ktstr.checks.result import AssertResult
from ktstr.checks.stats import CgroupStats


@dataclass(frozen=True)
class Assert:
    not_starved: Optional[bool] = None          # every worker made progress
    isolation: Optional[bool] = None            # workers ran only on their cpuset's CPUs
    max_spread_pct: Optional[float] = None      # max - min off-CPU% within a cgroup
    max_gap_ms: Optional[float] = None          # longest time a worker made no progress
    max_p99_wake_latency_us: Optional[float] = None
    max_migration_ratio: Optional[float] = None
    min_iterations_per_worker: Optional[int] = None
    scheduler_attached: Optional[bool] = None   # the sched_ext scheduler stayed enabled

    @staticmethod
    def default_checks(emulated: bool = True) -> "Assert":
        """The checks every scenario gets. Limits as upstream ktstr's: 15% spread and 2 s
        gaps on hardware virtualization; under an emulator (QEMU TCG), where a vCPU can
        stall for a while, its debug-build limits of 35% and 3 s."""
        spread, gap = (35.0, 3000.0) if emulated else (15.0, 2000.0)
        return Assert(not_starved=True, isolation=True, max_spread_pct=spread, max_gap_ms=gap,
                      scheduler_attached=True)

    def merge(self, other: Optional["Assert"]) -> "Assert":
        if other is None:
            return self
        changes = {f.name: getattr(other, f.name) for f in fields(other)
                   if getattr(other, f.name) is not None}
        return replace(self, **changes)

    def check(self, cgroups: list[tuple[CgroupStats, Optional[list[int]]]]) -> AssertResult:
        """Judge each cgroup's stats (with its cpuset, or None) against the enabled checks."""
        result = AssertResult()
        v = Verdict()
        for cg, cpuset in cgroups:
            result.stats.update(cg.as_metrics())
            if cg.incomplete_workers:
                result.add_failure(f"{cg.name}: {cg.incomplete_workers} of {cg.num_workers} workers "
                                   f"did not report (killed or hung)")
            if self.not_starved and cg.num_workers and cg.min_iterations == 0:
                result.add_failure(f"{cg.name}: starved: a worker made no progress "
                                   f"({cg.num_workers} workers on {cg.num_cpus} cpus)")
            if self.isolation and cpuset is not None:
                outside = sorted(set(cg.cpus_used) - set(cpuset))
                if outside:
                    result.add_failure(f"{cg.name}: isolation: workers ran on cpus {outside} "
                                       f"outside cpuset {sorted(cpuset)}")
            if self.max_spread_pct is not None and cg.num_workers >= 2:
                v.claim(cg).spread.at_most(self.max_spread_pct)
            if self.max_gap_ms is not None:
                v.claim(cg).max_gap_ms.at_most(self.max_gap_ms)
            if self.max_p99_wake_latency_us is not None and cg.wake_samples:
                v.claim(cg).p99_wake_latency_us.at_most(self.max_p99_wake_latency_us)
            if self.max_migration_ratio is not None:
                v.claim(cg).migration_ratio.at_most(self.max_migration_ratio)
            if self.min_iterations_per_worker is not None:
                v.claim(cg).min_iterations.at_least(self.min_iterations_per_worker)
        return v.into_result(result)
