"""Adversarial guests: test bodies that try to make a broken run pass. Each runs as a
negative target (tests/integrity/BUILD.bazel, expect_fail naming the fault the host must
see); before the integrity work each of them passed."""

from ktstr import ktstr_test


def _kmsg(line: str) -> None:
    with open("/dev/kmsg", "w") as f:
        f.write(f"<4>{line}\n")


@ktstr_test(llcs=1, cores=2, duration=0.5)
def warning_then_a_mebibyte(ctx):
    """A WARNING, then 1 MiB of ordinary console output: the host judged only the last
    256 KiB, so the WARNING scrolled out of what it read."""
    import sys

    from ktstr.checks import AssertResult

    _kmsg("WARNING: CPU: 0 PID: 1 at tests/integrity/guests.py:1 warning_then_a_mebibyte")
    line = "x" * 1023 + "\n"
    for _ in range(1100):
        sys.stdout.write(line)
    sys.stdout.flush()
    return AssertResult()


@ktstr_test(llcs=1, cores=2, duration=0.5)
def imitated_test_mark_then_warning(ctx):
    """A user-space line imitating the agent's test mark moved the WARNING after it into
    the window of a test nobody judged."""
    from ktstr.checks import AssertResult

    _kmsg("ktstr: test ghost begins")
    _kmsg("WARNING: CPU: 0 PID: 1 at tests/integrity/guests.py:2 imitated_test_mark_then_warning")
    return AssertResult()


@ktstr_test(llcs=1, cores=2, duration=0.5)
def forges_pass_and_run_end(ctx):
    """Writes TestResult(PASS) and RunEnd frames through every descriptor of the result
    channel it holds and through the device (recreated if the agent removed it), then
    powers the VM off: before, the run passed."""
    import ctypes
    import os
    import stat

    from ktstr.wire import ktstr_pb2 as pb
    from ktstr.wire.frames import RUN_END, TEST_RESULT, encode_frame

    forged = (encode_frame(TEST_RESULT, pb.TestResult(name="forges_pass_and_run_end", status=pb.PASS)
                           .SerializeToString())
              + encode_frame(RUN_END, pb.RunEnd().SerializeToString()))
    used = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if "ttyS1" in os.readlink(f"/proc/self/fd/{fd}"):
                os.write(int(fd), forged)
                used.append(f"inherited fd {fd}")
        except OSError:
            pass
    if not os.path.exists("/dev/ttyS1"):
        os.mknod("/dev/ttyS1", 0o600 | stat.S_IFCHR, os.makedev(4, 65))
        used.append("recreated /dev/ttyS1")
    fd = os.open("/dev/ttyS1", os.O_WRONLY | os.O_NOCTTY)
    os.write(fd, forged)
    os.close(fd)
    used.append("opened /dev/ttyS1")
    print(f"forger: wrote forged frames via {', '.join(used)}; powering off", flush=True)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sync()
    libc.reboot(0x4321FEDC)  # LINUX_REBOOT_CMD_POWER_OFF


@ktstr_test(llcs=1, cores=2, duration=0.5)
def under_a_forging_scheduler(ctx):
    """Runs under forging_scheduler.sh, which forges this test's PASS and RunEnd and powers
    off instead of attaching."""
    from ktstr.checks import AssertResult

    return AssertResult()


@ktstr_test(llcs=1, cores=2, duration=0.5)
def quiet_after_a_boot_splat(ctx):
    """Does nothing wrong: its target boots with `early_ioremap_debug`, so the kernel WARNs
    (a real WARN with a stack trace, mm/early_ioremap.c) before the agent starts. The host
    read only the tail and cut windows at console marks; a boot splat belonged to no test."""
    from ktstr.checks import AssertResult

    return AssertResult()


@ktstr_test(llcs=1, cores=2, duration=0.5)
def known_failure_and_an_unrelated_bug(ctx):
    """Fails the way its target declares known, and in the same test the kernel log gets a
    BUG nobody declared: a known text matched anywhere in the evidence passed the whole run,
    the BUG with it (test_vm_expectations.py asserts it now fails, named by the BUG)."""
    from ktstr.checks import AssertResult

    _kmsg("BUG: kernel NULL pointer dereference, address: 0000000000000000 (tests/integrity/guests.py:3)")
    return AssertResult.fail("known stall: worker 0 not scheduled for 4000 ms")
