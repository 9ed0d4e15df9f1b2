"""The //sched example suite: the same scenarios for every scheduler, plus negative tests."""

load("//rules:defs.bzl", "ktstr_test")

KERNEL = "//kernels:default"

# The base initramfs (Python runtime + ktstr package + guest agent).
BASE_INITRAMFS = "//initramfs:base"

# The test functions of scenarios.py, in file order.
SCENARIOS = ["two_cgroup_fairness", "cpuset_isolation", "cgroup_churn", "mixed_work_types", "multi_llc"]

def scheduler_suite(
        name,
        scheduler = None,
        sched_args = [],
        known_failures = {},
        intermittent_failures = {},
        known_failures_monitor = {},
        vm_timeout_s = 60,
        **kwargs):
    """One Bazel test per scheduler running every scenario in scenarios.py.

    Tests sharing a topology share a VM, so this is two boots (1n1l2c1t and 1n2l2c1t).

    Args:
      name: the main target's name (and the prefix of the known/intermittent targets).
      scheduler: a ktstr scheduler target; None = EEVDF.
      sched_args: extra loader arguments.
      known_failures: {text: [scenario, ...]}: scenarios this scheduler is known to fail,
        with the text a finding of each must contain (ktstr_test's expect_fail). Each text
        becomes its own target, `<name>_known_<i>`, which passes only while every scenario
        still shows that finding and no finding it does not cover (known failures are
        matched per finding: ktstr/host/expectations.py): when a fix lands it turns red,
        and the scenarios move back into the main target.
      intermittent_failures: {text: [scenario, ...]}: timing-dependent findings (may_fail).
        Scenarios with the same set of texts share a target `<name>_intermittent_<i>`: a
        finding containing one of its texts is reported as known and does not fail; it need
        not occur; any finding no text covers fails.
      known_failures_monitor: host monitor options of the known-failure targets only (e.g. a
        shorter max_runnable_wait_s where the scheduler's own watchdog is short).
      vm_timeout_s: per boot of the main target (the vmm-nested engine's boots take longer).
      **kwargs: passed to every ktstr_test.
    """
    failing = [t for tests in known_failures.values() + intermittent_failures.values() for t in tests]
    for t in failing:
        if t not in SCENARIOS:
            fail("scheduler_suite %s: known failure %r is not a scenario (%s)" % (name, t, ", ".join(SCENARIOS)))
    passing = [t for t in SCENARIOS if t not in failing]
    if passing:  # (an empty `test` would mean every test of the file)
        ktstr_test(
            name = name,
            srcs = ["scenarios.py"],
            test = ",".join(passing) if failing else "",
            kernel = KERNEL,
            initramfs = [BASE_INITRAMFS],
            scheduler = scheduler,
            sched_args = sched_args,
            vm_timeout_s = vm_timeout_s,
            **kwargs
        )
    for i, reason in enumerate(sorted(known_failures)):
        ktstr_test(
            name = "%s_known_%d" % (name, i),
            srcs = ["scenarios.py"],
            test = ",".join(known_failures[reason]),
            kernel = KERNEL,
            initramfs = [BASE_INITRAMFS],
            scheduler = scheduler,
            sched_args = sched_args,
            expect_fail = reason,
            vm_timeout_s = 240,  # a stall takes the kernel watchdog (up to 30 s) plus RCU stall reports
            monitor = known_failures_monitor,
            **kwargs
        )

    # A scenario may have several intermittent reasons; scenarios with the same set share
    # a target that accepts any of them.
    reasons_of = {}
    for reason in sorted(intermittent_failures):
        for t in intermittent_failures[reason]:
            reasons_of.setdefault(t, []).append(reason)
    groups = {}
    for t in SCENARIOS:
        if t in reasons_of:
            groups.setdefault(tuple(reasons_of[t]), []).append(t)
    for i, reasons in enumerate(sorted(groups)):
        ktstr_test(
            name = "%s_intermittent_%d" % (name, i),
            srcs = ["scenarios.py"],
            test = ",".join(groups[reasons]),
            kernel = KERNEL,
            initramfs = [BASE_INITRAMFS],
            scheduler = scheduler,
            sched_args = sched_args,
            may_fail = list(reasons),
            vm_timeout_s = 240,
            **kwargs
        )

def broken_scheduler_test(name, scheduler, expect_fail, test = "two_cgroup_fairness", **kwargs):
    """A scheduler that must be caught.

    The test passes only if a finding contains `expect_fail` (the kernel's reason) and
    every other finding is its consequence or covered too.

    Args:
      name: target name.
      scheduler: the broken scheduler.
      expect_fail: the text a finding must contain.
      test: the scenario to run.
      **kwargs: passed to ktstr_test.
    """
    ktstr_test(
        name = name,
        srcs = ["scenarios.py"],
        test = test,
        kernel = KERNEL,
        initramfs = [BASE_INITRAMFS],
        scheduler = scheduler,
        expect_fail = expect_fail,
        vm_timeout_s = 60,
        **kwargs
    )
