"""The //sched example suite: the same scenarios for every scheduler, plus negative tests."""

load("//rules:defs.bzl", "ktstr_test")

KERNEL = "//kernels:default"

# The base initramfs (Python runtime + ktstr package + guest agent).
BASE_INITRAMFS = "//initramfs:base"

def scheduler_suite(name, scheduler = None, sched_args = [], **kwargs):
    """One Bazel test per scheduler running every scenario in scenarios.py.

    Tests sharing a topology share a VM, so this is two boots (1n1l2c1t and 1n2l2c1t).
    """
    ktstr_test(
        name = name,
        srcs = ["scenarios.py"],
        kernel = KERNEL,
        initramfs = [BASE_INITRAMFS],
        scheduler = scheduler,
        sched_args = sched_args,
        timeout = 60,
        **kwargs
    )

def broken_scheduler_test(name, scheduler, expect_fail, test = "two_cgroup_fairness", **kwargs):
    """A scheduler that must be caught: the test passes only if the run FAILs with
    `expect_fail` (the kernel's reason) in its evidence."""
    ktstr_test(
        name = name,
        srcs = ["scenarios.py"],
        test = test,
        kernel = KERNEL,
        initramfs = [BASE_INITRAMFS],
        scheduler = scheduler,
        expect_fail = expect_fail,
        timeout = 60,
        **kwargs
    )
