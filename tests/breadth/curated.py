"""The original ktstr's 14 curated scenarios, each as a test: 4 CPUs over 2 LLCs, so the LLC
scenario runs; cpuset_resize needs 4 usable CPUs (the last CPU stays for the root cgroup, as
the original reserves it), so it boots its own 5-CPU guest. None may SKIP.

cgroup_add and cgroup_remove run 3 s, the rest 1 s: their second and last cgroups live half
the run, and over a short window EEVDF's busy balancing across the LLCs (over 100 ms apart
once busy_factor scales it) and the wait of a new worker for its first run (up to 0.8 s
measured, 1.75 s beside a compiling kernel) decide a sibling's share more than fairness
does. Measured with //tests/breadth:spread_window_probe, 64 runs per duration, under two VM
tests on 2 host cores: at 1 s cgroup_remove failed 4 of 32 (spreads 36-51% against the
emulated bound of 35); at 2 s none failed, but cgroup_add reached 34.9; at 3 s, beside a
compiling kernel as well, none failed and the highest spread was 27.8."""

from ktstr import AssertResult, canned, ktstr_test


def _ran(result: AssertResult) -> AssertResult:
    """Each topology here is chosen so every scenario runs: a SKIP is this target's FAIL."""
    if result.skipped:
        return AssertResult.fail(f"skipped ({result.reason}), but this topology was chosen for it to run")
    return result


@ktstr_test(llcs=2, cores=2, duration=1.0)
def steady(ctx):
    return _ran(canned.steady(ctx))


@ktstr_test(llcs=2, cores=2, duration=1.0)
def steady_llc(ctx):
    return _ran(canned.steady_llc(ctx))


@ktstr_test(llcs=2, cores=2, duration=1.0)
def oversubscribed(ctx):
    return _ran(canned.oversubscribed(ctx))


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cpuset_apply(ctx):
    return _ran(canned.cpuset_apply(ctx))


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cpuset_clear(ctx):
    return _ran(canned.cpuset_clear(ctx))


@ktstr_test(llcs=1, cores=5, duration=1.0)
def cpuset_resize(ctx):
    return _ran(canned.cpuset_resize(ctx))


# 3 s, so the cgroups that live half the run get 1.5 s windows (the module doc says why).
@ktstr_test(llcs=2, cores=2, duration=3.0)
def cgroup_add(ctx):
    return _ran(canned.cgroup_add(ctx))


# 3 s, as cgroup_add.
@ktstr_test(llcs=2, cores=2, duration=3.0)
def cgroup_remove(ctx):
    return _ran(canned.cgroup_remove(ctx))


@ktstr_test(llcs=2, cores=2, duration=1.0)
def affinity_change(ctx):
    return _ran(canned.affinity_change(ctx))


@ktstr_test(llcs=2, cores=2, duration=1.0)
def affinity_pinned(ctx):
    return _ran(canned.affinity_pinned(ctx))


@ktstr_test(llcs=2, cores=2, duration=1.0)
def host_contention(ctx):
    return _ran(canned.host_contention(ctx))


@ktstr_test(llcs=2, cores=2, duration=1.0)
def mixed_workloads(ctx):
    return _ran(canned.mixed_workloads(ctx))


@ktstr_test(llcs=2, cores=2, duration=1.0)
def nested_steady(ctx):
    return _ran(canned.nested_steady(ctx))


@ktstr_test(llcs=2, cores=2, duration=1.0)
def nested_task_move(ctx):
    return _ran(canned.nested_task_move(ctx))
