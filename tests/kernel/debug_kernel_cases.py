"""Fixtures for //kernels:debug (run inside the VM): the kernel's own planted bugs (LKDTM,
built into the debug kernel) provoked from a test. The guest sees nothing wrong; the host's
console scan must fail the test with the kernel's splat as the reason."""

import os

from ktstr import ktstr_test
from ktstr.checks.result import AssertResult

DIRECT = "/sys/kernel/debug/provoke-crash/DIRECT"


def _provoke(kind: str) -> None:
    """Write to LKDTM from a child process: a bug that leaves the task in a bad state (a
    lock held on return to user space) must hit the child, not the agent (PID 1)."""
    pid = os.fork()
    if pid == 0:
        try:
            with open(DIRECT, "w") as f:
                f.write(kind + "\n")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


@ktstr_test(llcs=1, cores=2, duration=1.0)
def kfence_use_after_free(ctx):
    """A read of a freed heap object: LKDTM allocates until it gets a KFENCE-guarded object,
    frees it and reads it; KFENCE reports "BUG: KFENCE: use-after-free read"."""
    _provoke("KFENCE_READ_AFTER_FREE")
    return AssertResult()  # passed, as far as the guest can tell


@ktstr_test(llcs=1, cores=2, duration=1.0)
def lock_held_returning_to_user(ctx):
    """A lock-context bug: LKDTM's SPINLOCKUP takes a spinlock and returns to user space
    holding it (called once, so nothing deadlocks); lockdep reports "lock held when returning
    to user space"."""
    _provoke("SPINLOCKUP")
    return AssertResult()  # passed, as far as the guest can tell
