"""The consumer team's own scenarios for scx_fifo (they run inside the VM)."""

from ktstr import CgroupDef, CpusetSpec, Claims, WorkType, claim, execute_defs, ktstr_test


@ktstr_test(llcs=1, cores=2, duration=1.5)
def fifo_is_fair(ctx):
    """Two cgroups of spinners share the CPUs: nobody starves, shares stay within bounds."""
    return execute_defs(ctx, [
        CgroupDef("cg_a").workers(2).work(WorkType.SPIN_WAIT),
        CgroupDef("cg_b").workers(2).work(WorkType.SPIN_WAIT),
    ])


@ktstr_test(llcs=1, cores=2, duration=1.5)
def pinned_halves_wake_quickly(ctx):
    """Ping-pong pairs on each half of the CPUs wake within 100 ms at p99."""
    result = execute_defs(ctx, [
        CgroupDef(f"pp_{i}").workers(2).work(WorkType.PIPE_PINGPONG).cpuset(CpusetSpec.split(i, 2))
        for i in range(2)
    ])
    v = Claims()
    claim(v, result.stats["pp_0.p99_wake_latency_us"]).at_most(100_000)
    claim(v, result.stats["pp_1.p99_wake_latency_us"]).at_most(100_000)
    return v.into_result(result)   # a failed claim carries its label, value and bound
