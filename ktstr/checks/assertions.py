"""Assert: the checks a scenario's workers must satisfy, in three mergeable layers
(defaults -> scheduler -> test; for each field the last value that is not None wins, so a
later layer can loosen a bound, or turn a check off with Off("why") (False for a yes/no
check). A check is on with a bound that some input can break, or off with its reason in the
report ("not checked: ..."): a bound that can never fail (a spread of 100%) is refused."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Optional

from ktstr.checks.claims import Claims
from ktstr.errors import KtstrError
from ktstr.checks.result import AssertResult
from ktstr.checks.stats import CgroupStats


class CheckError(KtstrError, ValueError):
    """A check name or value that Assert does not take (from a Bazel attribute or run.json)."""


class CheckBoundError(KtstrError, ValueError):
    """A check bound that no input can break: switch the check off with Off("why") instead."""


@dataclass(frozen=True)
class Off:
    """A check switched off, and why: `Assert(max_spread_pct=Off("unequal shares by design"))`.
    The check is then None in the merged Assert and the report says "not checked: <why>"."""

    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise CheckBoundError("Off(): say why the check is off")


# Bounds of these checks are shares in percent (0..100) or fractions (0..1): beyond the range
# they cannot fail. Every other numeric bound is >= 0 by nature: a minimum <= 0, or any
# infinite bound, cannot fail either.
_PERCENT = {"max_spread_pct"}
_FRACTION_MIN = {"min_page_locality"}


def vacuous(name: str, value: Any) -> str:
    """Why check `name` with bound `value` can never fail on any input ("" when it can)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if math.isinf(value) or math.isnan(value):
        return f"{name}={value!r} is not a bound"
    if name in _PERCENT and value >= 100:
        return f"{name}={value:g}: a percentage never exceeds 100"
    if name in _FRACTION_MIN and value <= 0:
        return f"{name}={value:g}: a share is never below 0"
    if name.startswith("min_") and value <= 0:
        return f"{name}={value:g}: the measure is never below 0"
    return ""


@dataclass(frozen=True)
class Assert:
    not_starved: Optional[bool] = None          # every worker made progress
    isolation: Optional[bool] = None            # workers ran only on their cpuset's CPUs
    max_spread_pct: Optional[float] = None      # max - min off-CPU% within a cgroup
    max_gap_ms: Optional[float] = None          # longest time a worker made no progress
    max_p99_wake_latency_us: Optional[float] = None
    max_migration_ratio: Optional[float] = None
    min_iterations_per_worker: Optional[int] = None
    max_throughput_cv: Optional[float] = None   # CV of work units per CPU-second across workers
    min_work_rate: Optional[float] = None       # work units per CPU-second, every worker
    max_wake_latency_cv: Optional[float] = None  # pooled wake-latency CV (needs >= 2 samples)
    min_iteration_rate: Optional[float] = None  # iterations per wall second, every worker
    max_run_delay_us: Optional[float] = None    # schedstat run delay of the worst worker
    min_page_locality: Optional[float] = None   # share of pages on the nodes a worker ran on
    scheduler_attached: Optional[bool] = None   # the sched_ext scheduler stayed enabled
    # Checks switched off in this layer (or an earlier one): (name, why), in the report.
    unchecked: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        off = dict(self.unchecked)
        for name in self.knobs():
            value = getattr(self, name)
            if isinstance(value, Off):
                off[name] = value.reason
                object.__setattr__(self, name, None)
            elif (why := vacuous(name, value)):
                raise CheckBoundError(f"check {why}, so it can never fail: switch it off with "
                                      f"{name}=Off(\"why\") (Bazel checks: \"off: why\") instead")
        object.__setattr__(self, "unchecked", tuple(sorted(off.items())))

    @classmethod
    def knobs(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name != "unchecked"]

    @classmethod
    def from_dict(cls, values: dict) -> "Assert":
        """From a name -> value map (a Bazel attribute, run.json), refusing unknown names."""
        unknown = sorted(set(values) - set(cls.knobs()))
        if unknown:
            raise CheckError(f"unknown check {', '.join(unknown)}; valid: {', '.join(cls.knobs())}")
        types = {f.name: f.type for f in fields(cls)}
        out: dict[str, Any] = {}
        for k, v in values.items():
            if isinstance(v, str) and v.strip().lower().startswith("off:"):
                out[k] = Off(v.strip()[4:].strip())
                continue
            if isinstance(v, str):
                low = v.strip().lower()
                if "bool" in str(types[k]):
                    if low not in ("true", "false", "1", "0"):
                        raise CheckError(f"check {k}={v!r}: expected true or false")
                    v = low in ("true", "1")
                else:
                    v = float(low)
            out[k] = v
        return cls(**out)

    @staticmethod
    def default_checks(emulated: bool = True) -> "Assert":
        """The checks every scenario gets. Limits as upstream ktstr's: 15% spread and 2 s
        gaps on hardware virtualization; under an emulator (QEMU TCG), where a vCPU can
        stall for a while, its debug-build limits of 35% and 3 s."""
        spread, gap = (35.0, 3000.0) if emulated else (15.0, 2000.0)
        return Assert(not_starved=True, isolation=True, max_spread_pct=spread, max_gap_ms=gap,
                      scheduler_attached=True)

    def merge(self, other: Optional["Assert"]) -> "Assert":
        """`other` over self: its set bounds win (and switch a check back on), its Off()s
        switch checks off."""
        if other is None:
            return self
        changes: dict[str, Any] = {k: getattr(other, k) for k in other.knobs() if getattr(other, k) is not None}
        off = {k: why for k, why in self.unchecked if k not in changes}
        off.update(other.unchecked)
        changes.update({k: None for k in off})
        return replace(self, unchecked=tuple(sorted(off.items())), **changes)

    def check(self, cgroups: list[tuple[CgroupStats, Optional[list[int]]]]) -> AssertResult:
        """Judge each cgroup's stats (with its cpuset, or None) against the enabled checks."""
        result = AssertResult()
        for name, why in self.unchecked:
            result.note_not_checked(f"{name}: {why}")
        v = Claims()
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
            if self.max_throughput_cv is not None and cg.num_workers >= 2:
                v.claim(cg).throughput_cv.at_most(self.max_throughput_cv)
            if self.min_work_rate is not None:
                v.claim(cg).min_work_rate.at_least(self.min_work_rate)
            if self.max_wake_latency_cv is not None and cg.wake_samples >= 2:
                v.claim(cg).wake_latency_cv.at_most(self.max_wake_latency_cv)
            if self.min_iteration_rate is not None:
                v.claim(cg).min_iteration_rate.at_least(self.min_iteration_rate)
            if self.max_run_delay_us is not None:
                v.claim(cg).worst_run_delay_us.at_most(self.max_run_delay_us)
            if self.min_page_locality is not None:
                v.claim(cg).page_locality.at_least(self.min_page_locality)
        return v.into_result(result)
