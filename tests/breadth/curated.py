"""The original ktstr's 14 curated scenarios, each as a test (4 CPUs over 2 LLCs, so the LLC
scenario runs; cpuset_resize needs 4 usable CPUs and SKIPs here with the reason)."""

from ktstr import ktstr_test, scenarios


@ktstr_test(llcs=2, cores=2, duration=1.0)
def steady(ctx):
    return scenarios.steady(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def steady_llc(ctx):
    return scenarios.steady_llc(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def oversubscribed(ctx):
    return scenarios.oversubscribed(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cpuset_apply(ctx):
    return scenarios.cpuset_apply(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cpuset_clear(ctx):
    return scenarios.cpuset_clear(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cpuset_resize(ctx):
    return scenarios.cpuset_resize(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cgroup_add(ctx):
    return scenarios.cgroup_add(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cgroup_remove(ctx):
    return scenarios.cgroup_remove(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def affinity_change(ctx):
    return scenarios.affinity_change(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def affinity_pinned(ctx):
    return scenarios.affinity_pinned(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def host_contention(ctx):
    return scenarios.host_contention(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def mixed_workloads(ctx):
    return scenarios.mixed_workloads(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def nested_steady(ctx):
    return scenarios.nested_steady(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def nested_task_move(ctx):
    return scenarios.nested_task_move(ctx)
