"""A plain load for the stalling fixture: spinners in two cgroups."""

from ktstr import CgroupDef, execute_defs, ktstr_test


@ktstr_test(llcs=1, cores=2, duration=8.0)
def spinners(ctx):
    return execute_defs(ctx, [CgroupDef(f"cg_{i}").workers(2) for i in range(2)])
