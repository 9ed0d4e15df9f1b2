"""The measurement behind curated.py's durations: cgroup_add and cgroup_remove at 1, 2 and 3 s.

Their second and last cgroups live half the run; over a short window EEVDF's busy balancing
and the start of new workers decide the spread more than fairness does. Run it under the
load CI has (two VM tests on 2 host cores) and read each run's result.json stats
(cg_N.spread, cg_N.max_start_delay_ms):

    ./bazelw test //tests/breadth:spread_window_probe --runs_per_test=8 --local_test_jobs=4 \
        --cache_test_results=no

Every spread is judged against the emulated bound (35), so the target's FAILs are the
counts curated.py quotes."""

from ktstr import canned, ktstr_test

@ktstr_test(llcs=2, cores=2, duration=1.0)
def cgroup_add_1s(ctx):
    return canned.cgroup_add(ctx)

@ktstr_test(llcs=2, cores=2, duration=1.0)
def cgroup_remove_1s(ctx):
    return canned.cgroup_remove(ctx)

@ktstr_test(llcs=2, cores=2, duration=2.0)
def cgroup_add_2s(ctx):
    return canned.cgroup_add(ctx)

@ktstr_test(llcs=2, cores=2, duration=2.0)
def cgroup_remove_2s(ctx):
    return canned.cgroup_remove(ctx)

@ktstr_test(llcs=2, cores=2, duration=3.0)
def cgroup_add_3s(ctx):
    return canned.cgroup_add(ctx)

@ktstr_test(llcs=2, cores=2, duration=3.0)
def cgroup_remove_3s(ctx):
    return canned.cgroup_remove(ctx)
