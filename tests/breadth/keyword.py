"""A misspelled keyword is refused when the test module loads (a negative test)."""

from ktstr import CgroupDef, execute_defs, ktstr_test


@ktstr_test(llcs=1, cores=2, durration=1.0)
def misspelled_keyword(ctx):
    """Refused: the error names the keyword, the likely intended one and the valid ones."""
    return execute_defs(ctx, [CgroupDef("cg_0").workers(1)])
