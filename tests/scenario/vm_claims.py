"""Claims judged inside a VM: a deliberately impossible claim must fail, naming its label
(the source expression), the measured value and the bound."""

from ktstr import CgroupDef, Claims, WorkType, claim, execute_defs, ktstr_test


@ktstr_test(llcs=1, cores=2, duration=1.0)
def impossible_claim(ctx):
    result = execute_defs(ctx, [CgroupDef("cg_0").workers(2).work(WorkType.SPIN_WAIT)])
    v = Claims()
    iterations = result.stats["cg_0.total_iterations"]
    claim(v, iterations / 1e12).at_least(1.0)
    return v.into_result(result)
