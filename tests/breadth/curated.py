"""The original ktstr's 14 curated scenarios, each as a test (4 CPUs over 2 LLCs, so the LLC
scenario runs; cpuset_resize needs 4 usable CPUs and SKIPs here with the reason)."""

from ktstr import canned, ktstr_test


@ktstr_test(llcs=2, cores=2, duration=1.0)
def steady(ctx):
    return canned.steady(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def steady_llc(ctx):
    return canned.steady_llc(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def oversubscribed(ctx):
    return canned.oversubscribed(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cpuset_apply(ctx):
    return canned.cpuset_apply(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cpuset_clear(ctx):
    return canned.cpuset_clear(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cpuset_resize(ctx):
    return canned.cpuset_resize(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cgroup_add(ctx):
    return canned.cgroup_add(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def cgroup_remove(ctx):
    return canned.cgroup_remove(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def affinity_change(ctx):
    return canned.affinity_change(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def affinity_pinned(ctx):
    return canned.affinity_pinned(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def host_contention(ctx):
    return canned.host_contention(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def mixed_workloads(ctx):
    return canned.mixed_workloads(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def nested_steady(ctx):
    return canned.nested_steady(ctx)


@ktstr_test(llcs=2, cores=2, duration=1.0)
def nested_task_move(ctx):
    return canned.nested_task_move(ctx)
