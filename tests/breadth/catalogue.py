"""Catalogue entries in the VM. `catalogue_budget`: one entry of each of the 11 categories
(what CI runs); `whole_catalogue`: all 81, in one test (the //tests/breadth:catalogue_full_test
target, tagged manual: several minutes under TCG on 2 cores).

Entries start many workers at once (woken together by one parent, so they start on its CPU)
and the entries follow each other in one test: under TCG the balancer needs more than the
host monitor's 0.5 s to spread such a burst, so imbalance must last 2 s to count here."""

from ktstr import ktstr_test
from ktstr.catalogue import CATALOGUE, run_entries

BUDGET = ["cgroup_steady", "cgroup_cpuset_swap_disjoint", "mutex_contention_light", "cgroup_affinity_random",
          "sched_batch", "cgroup_cpuset_load_shift", "stall_recovery", "cgroup_rapid_churn",
          "nested_cgroup_cpuset", "cgroup_no_ctrl_cpuset_change", "fan_out_wake"]


@ktstr_test(llcs=2, cores=2, duration=2.0, monitor={"sustained_samples": 20})
def catalogue_budget(ctx):
    return run_entries(ctx, BUDGET)


@ktstr_test(llcs=2, cores=2, duration=1.5, monitor={"sustained_samples": 20})
def whole_catalogue(ctx):
    return run_entries(ctx, list(CATALOGUE))
