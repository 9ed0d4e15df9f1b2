"""Guests of tests/engines/test_fanout.py: a scenario that passes and one that plants a
kernel WARNING, each run from a fresh boot and from a snapshot's clone."""

from ktstr import canned, ktstr_test


@ktstr_test(llcs=1, cores=2, duration=1.0)
def fair_share(ctx):
    """Two cgroups x 2 spinners on 2 CPUs: passes on EEVDF."""
    return canned.two_cgroups_fair_share(ctx)


@ktstr_test(llcs=1, cores=2, duration=0.5)
def plants_a_warning(ctx):
    """Does nothing wrong but write a kernel WARNING: the host must fail this test."""
    from ktstr.checks import AssertResult

    with open("/dev/kmsg", "w") as f:
        f.write("<4>WARNING: CPU: 0 PID: 1 at tests/engines/fanout_guests.py:1 plants_a_warning\n")
    return AssertResult()
