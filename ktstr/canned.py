"""Ready-made scenarios (`ktstr.canned`; the scenario engine is ktstr.scenario, a suite's
tests are its own files). Each takes a Ctx and returns an AssertResult."""

from __future__ import annotations

from ktstr.checks.result import AssertResult
from ktstr.scenario.ctx import Ctx
from ktstr.scenario.execute import execute_defs, execute_steps
from ktstr.scenario.model import CgroupDef, CpusetSpec, HoldSpec, Op, Step
from ktstr.workload.types import WorkType


def two_cgroups_fair_share(ctx: Ctx, workers: int = 2) -> AssertResult:
    """Two cgroups of spinners on all CPUs (one per LLC when there are several LLCs)."""
    per_llc = ctx.topo.llcs() >= 2
    defs = [CgroupDef(f"cg_{i}").workers(workers).work(WorkType.SPIN_WAIT)
            .cpuset(CpusetSpec.llc(i) if per_llc else None) for i in range(2)]
    return execute_defs(ctx, defs)


def cpuset_isolation(ctx: Ctx, workers: int = 2) -> AssertResult:
    """Each cgroup confined to half of the CPUs: no worker may run outside its half."""
    if len(ctx.topo.all_cpuset()) < 2:
        return AssertResult.skip("cpuset_isolation needs at least 2 CPUs")
    defs = [CgroupDef(f"iso_{i}").workers(workers).work(WorkType.SPIN_WAIT)
            .cpuset(CpusetSpec.split(i, 2)) for i in range(2)]
    return execute_defs(ctx, defs)


def cgroup_churn(ctx: Ctx) -> AssertResult:
    """A steady cgroup while others are created, loaded, re-cpuset and removed."""
    steady = CgroupDef("steady").workers(2).work(WorkType.SPIN_WAIT)
    churn_a = CgroupDef("churn_a").workers(2).work(WorkType.YIELD_HEAVY)
    churn_b = CgroupDef("churn_b").workers(2).work(WorkType.BURSTY)
    steps = [
        Step([steady, churn_a], HoldSpec.frac(0.3)),
        Step([Op.set_cpuset("churn_a", CpusetSpec.split(0, 2)), churn_b], HoldSpec.frac(0.3)),
        Step([Op.remove_cgroup("churn_a"), Op.stop_cgroup("churn_b")],
             HoldSpec.frac(0.2)),
        Step([Op.remove_cgroup("churn_b")], HoldSpec.frac(0.2)),
    ]
    return execute_steps(ctx, steps)


def mixed_work_types(ctx: Ctx) -> AssertResult:
    """Spinners, sleepers, bursty, pipe and futex ping-pong workers side by side."""
    defs = [
        CgroupDef("spin").workers(2).work(WorkType.SPIN_WAIT),
        CgroupDef("sleep").workers(2).work(WorkType.SLEEP_HEAVY),
        CgroupDef("bursty").workers(2).work(WorkType.BURSTY),
        CgroupDef("pingpong").workers(2).work(WorkType.PIPE_PINGPONG),
        CgroupDef("futex").workers(2).work(WorkType.FUTEX_PINGPONG),
    ]
    return execute_defs(ctx, defs)


def oversubscription(ctx: Ctx, factor: int = 4) -> AssertResult:
    """factor x as many spinners as CPUs, in two cgroups: nobody starves."""
    n = max(1, len(ctx.topo.all_cpuset()) * factor // 2)
    defs = [CgroupDef(f"over_{i}").workers(n).work(WorkType.SPIN_WAIT) for i in range(2)]
    return execute_defs(ctx, defs)


ALL = {f.__name__: f for f in (two_cgroups_fair_share, cpuset_isolation, cgroup_churn,
                               mixed_work_types, oversubscription)}
