"""The example suite every scheduler in //sched runs (inside the VM).

Four scenarios share one 2-CPU VM (one boot); the multi-LLC case asks for its own topology
and gets a second VM. Durations are short (1.5 s): under TCG a boot costs ~2 s, so the
whole //sched/... stays within a few minutes on 2 cores.
"""

from ktstr import canned
from ktstr.scenario import ktstr_test


@ktstr_test(llcs=1, cores=2, duration=1.5)
def two_cgroup_fairness(ctx):
    """Two cgroups x 2 spinners on 2 CPUs: nobody starves, CPU shares stay within bounds."""
    return canned.two_cgroups_fair_share(ctx)


@ktstr_test(llcs=1, cores=2, duration=1.5)
def cpuset_isolation(ctx):
    """One cgroup pinned to CPU 0, one to CPU 1: workers never run outside their cpuset."""
    return canned.cpuset_isolation(ctx)


@ktstr_test(llcs=1, cores=2, duration=1.5)
def cgroup_churn(ctx):
    """Cgroups created, loaded and removed while others run: no stalls, no lost workers."""
    return canned.cgroup_churn(ctx)


@ktstr_test(llcs=1, cores=2, duration=1.5)
def mixed_work_types(ctx):
    """Spinners, sleepers, bursty, pipe and futex ping-pong workers together: no
    starvation, bounded wake latency."""
    return canned.mixed_work_types(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.5)
def multi_llc(ctx):
    """Two LLCs x 2 cores: one cgroup per LLC, fairness and isolation across LLCs."""
    return canned.two_cgroups_fair_share(ctx)
