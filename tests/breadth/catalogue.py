"""Catalogue entries in the VM. `catalogue_budget`: one entry of each of the 11 categories
(what CI runs); `whole_catalogue`: all 81, in one test (the //tests/breadth:catalogue_full_test
target, tagged manual: 126 s under TCG on 2 cores; 69 run, 12 SKIP with their reason, and
`rest_of_catalogue` runs those 12 on a larger guest with their flags declared, 25 s). A
failure that is a measured property of the scheduler is a known failure of the target
(catalogue_full_test's may_fail, matched per finding on the host), not of the entry.

Entries start many workers at once (woken together by one parent, so they start on its CPU)
and the entries follow each other in one test: under TCG the balancer needs more than the
host monitor's 0.5 s to spread such a burst, so imbalance must last 2 s to count here."""

from ktstr import ktstr_test
from ktstr.catalogue import CATALOGUE, run_entries
from ktstr.catalogue.flags import canonical

BUDGET = ["cgroup_steady", "cgroup_cpuset_swap_disjoint", "mutex_contention_light", "cgroup_affinity_random",
          "sched_batch", "cgroup_cpuset_load_shift", "stall_recovery", "cgroup_rapid_churn",
          "nested_cgroup_cpuset", "cgroup_no_ctrl_cpuset_change", "fan_out_wake"]


# The host monitor judges imbalance within each cpuset group (the CPUs a CPU's running task
# may use), so entries that pile workers into a one-CPU cpuset by design are judged by the
# original's default bound (4). Entries start many workers at once and follow each other, so
# an imbalance must last 2 s to count (the note at the top of this file).
@ktstr_test(llcs=2, cores=2, duration=2.0, monitor={"sustained_samples": 20})
def catalogue_budget(ctx):
    return run_entries(ctx, BUDGET)


# All 81 in one test window, with the default imbalance bound (see catalogue_budget).
@ktstr_test(llcs=2, cores=2, duration=1.5, monitor={"sustained_samples": 20})
def whole_catalogue(ctx):
    return run_entries(ctx, list(CATALOGUE))


# The 12 entries whole_catalogue SKIPs on its guest: 9 that require a scheduler flag and 3 that
# need 4 usable CPUs or 2 NUMA nodes.
FLAGGED = [n for n, e in CATALOGUE.items() if e.requires]
LARGE = ["cgroup_cpuset_resize", "cgroup_cpuset_multicpu_pin", "cgroup_cpuset_numa_swap"]


# ... run here, on 2 nodes x 3 CPUs (5 usable). The flags are declared for EEVDF only so the
# entries' scenarios run: EEVDF implements none of them, and the entries check nothing
# flag-specific (their checks are the generic ones every entry has).
@ktstr_test(numa_nodes=2, llcs=2, cores=3, duration=1.5, monitor={"sustained_samples": 20})
def rest_of_catalogue(ctx):
    flags = canonical({f for n in FLAGGED for f in CATALOGUE[n].requires})
    return run_entries(ctx, FLAGGED + LARGE, flags)
