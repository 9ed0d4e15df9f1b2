"""The Bazel target's checks (ktstr_test(checks = ...)) reach the test: an impossible work
rate set there fails it, named like any claim."""

from ktstr import CgroupDef, execute_defs, ktstr_test


@ktstr_test(llcs=1, cores=2, duration=1.0)
def target_checks_apply(ctx):
    return execute_defs(ctx, [CgroupDef("cg_0").workers(2)])
