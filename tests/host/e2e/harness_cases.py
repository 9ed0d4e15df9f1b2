"""A test module for harness end-to-end checks: the busybox guests never run it (their /init
misbehaves on purpose); the host still lists it, boots, and must judge the wreckage."""

from ktstr import ktstr_test  # the guest-side API; never imported on the host


@ktstr_test(llcs=1, cores=2, duration=1.0)
def misbehaving_guest(ctx):
    return None
