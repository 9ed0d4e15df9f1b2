"""Tests that go wrong must fail with a verdict that names what happened (run as negative
tests): the guest survives them."""

from ktstr import ktstr_test


@ktstr_test(llcs=1, cores=2, duration=1.0)
def exhausts_memory(ctx):
    """Allocates (and touches) 16 MiB at a time until the kernel steps in: the OOM killer
    must take the test process, not panic the guest, and the verdict must say so."""
    hoard = []
    while True:
        hoard.append(bytearray(16 << 20))


@ktstr_test(llcs=1, cores=2, duration=1.0)
def fork_bomb(ctx):
    """A bounded fork bomb: every process forks 6 times (64 in all, sleeping), then the test
    raises. What it left running is killed and counted in the verdict."""
    import os
    import time

    root = os.getpid()
    for _ in range(6):
        os.fork()  # parent and child both go on
    if os.getpid() != root:
        time.sleep(600)
        os._exit(0)
    raise RuntimeError("the bomb went off")
