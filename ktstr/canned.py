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


# --- the original's 14 curated scenarios (scenario::scenarios) ----------------------------
def _catalogue(ctx: Ctx, name: str) -> AssertResult:
    from ktstr.catalogue.run import run_entry

    return run_entry(ctx, name)


def steady(ctx: Ctx) -> AssertResult:
    """2 cgroups, no cpusets, spinners: baseline fairness."""
    return _catalogue(ctx, "cgroup_steady")


def steady_llc(ctx: Ctx) -> AssertResult:
    """2 cgroups pinned to LLC 0 and LLC 1 (SKIP with fewer than 2 LLCs)."""
    return _catalogue(ctx, "cgroup_cpuset_llc_steady")


def oversubscribed(ctx: Ctx) -> AssertResult:
    """2 cgroups x 32 Mixed workers."""
    return _catalogue(ctx, "cgroup_oversubscribed")


def cpuset_apply(ctx: Ctx) -> AssertResult:
    """No cpusets, then disjoint ones applied mid-run."""
    return _catalogue(ctx, "cgroup_cpuset_apply_midrun")


def cpuset_clear(ctx: Ctx) -> AssertResult:
    """Disjoint cpusets, cleared mid-run."""
    return _catalogue(ctx, "cgroup_cpuset_clear_midrun")


def cpuset_resize(ctx: Ctx) -> AssertResult:
    """Even split -> shrink cg_0 / grow cg_1 -> the reverse (SKIP below 4 usable CPUs)."""
    return _catalogue(ctx, "cgroup_cpuset_resize")


def cgroup_add(ctx: Ctx) -> AssertResult:
    """2 cgroups, then 2 more added mid-run."""
    return _catalogue(ctx, "cgroup_add_midrun")


def cgroup_remove(ctx: Ctx) -> AssertResult:
    """4 cgroups, then the second half removed mid-run."""
    return _catalogue(ctx, "cgroup_remove_midrun")


def affinity_change(ctx: Ctx) -> AssertResult:
    """Worker affinities changed 4 times during the run."""
    return _catalogue(ctx, "cgroup_affinity_change")


def affinity_pinned(ctx: Ctx) -> AssertResult:
    """Every worker of both cgroups pinned to the same 2-CPU subset."""
    cpus = ctx.topo.all_cpuset()[:2]
    return execute_defs(ctx, [CgroupDef(f"cg_{i}").workers(2).pinned(cpus) for i in range(2)])


def host_contention(ctx: Ctx) -> AssertResult:
    """2 cgroups plus one unconstrained host worker per CPU."""
    return _catalogue(ctx, "host_cgroup_contention")


def mixed_workloads(ctx: Ctx) -> AssertResult:
    """3 cgroups: CPU-heavy, bursty and IO-like (IoSync)."""
    return execute_defs(ctx, [CgroupDef("cpu").work(WorkType.SPIN_WAIT),
                              CgroupDef("bursty").work(WorkType.BURSTY),
                              CgroupDef("io").work(WorkType.SLEEP_HEAVY)])


def nested_steady(ctx: Ctx) -> AssertResult:
    """Leaf workers in cg_0/sub_a, cg_0/sub_b, cg_1/sub_b and cg_1/sub_a/deep."""
    return _catalogue(ctx, "nested_cgroup_steady")


def nested_task_move(ctx: Ctx) -> AssertResult:
    """Tasks moved sub -> parent -> a sub of the other hierarchy -> its parent."""
    return _catalogue(ctx, "nested_cgroup_task_move")


CURATED = {f.__name__: f for f in (steady, steady_llc, oversubscribed, cpuset_apply, cpuset_clear,
                                   cpuset_resize, cgroup_add, cgroup_remove, affinity_change,
                                   affinity_pinned, host_contention, mixed_workloads, nested_steady,
                                   nested_task_move)}
