"""sched_ext's watchdog per test: the stalling fixture (built with 500 ms) is restarted with
2 s for this test, and the kernel's stall report says how long the task waited."""

from ktstr import CgroupDef, execute_defs, ktstr_test


@ktstr_test(llcs=1, cores=2, duration=8.0, watchdog_timeout_s=2.0)
def stall_with_2s_watchdog(ctx):
    return execute_defs(ctx, [CgroupDef(f"cg_{i}").workers(2) for i in range(2)])
