"""A scenario of the monorepo's own (it runs inside the VM)."""

from ktstr import CgroupDef, WorkType, execute_defs, ktstr_test


@ktstr_test(llcs=1, cores=2, duration=1.0)
def spinners_share(ctx):
    """Two cgroups of spinners under EEVDF: nobody starves."""
    return execute_defs(ctx, [
        CgroupDef("cg_a").workers(2).work(WorkType.SPIN_WAIT),
        CgroupDef("cg_b").workers(2).work(WorkType.SPIN_WAIT),
    ])
