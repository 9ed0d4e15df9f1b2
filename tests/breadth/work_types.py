"""Every work type runs in the VM under the scheduler, with the telemetry it is for:
work units, schedstat deltas, wake samples where a worker blocks, the fan-out messenger, and
which implementation ran the hot loops (native libktstr_hot.so, never the Python fallback)."""

from ktstr import (AffinityIntent, CgroupDef, MemPolicy, Off, Phase, SchedPolicy, Claims, Work,
                   WorkType, claim, execute_defs, ktstr_test)


def _spin_counter(stop, report):
    while not stop():
        for _ in range(1000):
            pass
        report.work_units += 1000
        report.iterations += 1


@ktstr_test(llcs=1, cores=2, duration=1.5)
def cpu_and_cache_types(ctx):
    """Mixed, CachePressure, CacheYield, CachePipe, PageFaultChurn, Sequence, Custom."""
    result = execute_defs(ctx, [
        CgroupDef("mixed").workers(1).work(WorkType.MIXED),
        CgroupDef("cache").workers(1).work(WorkType.CACHE_PRESSURE, cache_kb=16),
        CgroupDef("cache_yield").workers(1).work(WorkType.CACHE_YIELD, cache_kb=16),
        CgroupDef("cache_pipe").workers(2).work(WorkType.CACHE_PIPE, cache_kb=8),
        CgroupDef("faults").workers(1).work(WorkType.PAGE_FAULT_CHURN, region_kb=1024, touches_per_cycle=64),
        CgroupDef("seq").workers(1).work(WorkType.SEQUENCE, phases=(Phase.spin(0.05), Phase.sleep(0.02),
                                                                   Phase.yield_(0.02), Phase.io(0.02))),
        CgroupDef("custom").workers(1).work(WorkType.CUSTOM, custom=_spin_counter),
    ])
    v = Claims()
    s = result.stats
    for cg in ("mixed", "cache", "cache_yield", "cache_pipe", "faults", "seq", "custom"):
        v.claim(_Stats(s, cg)).total_work_units.at_least(1)
    claim(v, s["cache_pipe.wake_samples"]).at_least(1)    # the pipe reads are timed
    claim(v, s["seq.wake_samples"]).at_least(1)           # sleep/yield/io phases are timed
    claim(v, s["mixed.mean_run_delay_us"]).at_least(0.0)  # schedstat deltas arrived (-1: none)
    for cg in ("mixed", "cache", "cache_yield", "cache_pipe", "faults", "seq"):
        _all_native(v, s, cg)
    claim(v, s["custom.native_workers"]).equals(0)  # a Python function: no hot loop of ours ran
    return v.into_result(result)


def _all_native(v, s, cg, workers=None):
    """The guest loaded libktstr_hot.so and every worker's hot loops ran in it: a silent
    fallback to Python would measure the interpreter, not the scheduler."""
    stats = _Stats(s, cg)
    v.claim(stats).python_workers.equals(0)
    v.claim(stats).native_workers.equals(stats.num_workers if workers is None else workers)


@ktstr_test(llcs=1, cores=2, duration=1.5,
            max_spread_pct=Off("a messenger spins while its receivers sleep: shares differ by design"))
def wake_path_types(ctx):
    """FutexFanOut, FanOutCompute, MutexContention and the eventfd ping-pong: blocked workers
    woken by others. A messenger spins while its receivers sleep: their off-CPU shares differ
    by design (no spread bound)."""
    result = execute_defs(ctx, [
        CgroupDef("fanout").workers(3).work(WorkType.FUTEX_FAN_OUT, fan_out=2),
        CgroupDef("compute").workers(3).work(WorkType.FAN_OUT_COMPUTE, fan_out=2, cache_kb=4, operations=1),
        CgroupDef("mutex").workers(3).work(WorkType.MUTEX_CONTENTION, contenders=3, hold_iters=20000,
                                           work_iters=100),
        CgroupDef("eventfd").workers(2).work(WorkType.EVENTFD_PINGPONG),
    ])
    v = Claims()
    s = result.stats
    claim(v, s["fanout.wake_samples"]).at_least(1)
    claim(v, s["compute.wake_samples"]).at_least(1)
    claim(v, s["mutex.wake_samples"]).at_least(1)  # contended acquires are timed
    claim(v, s["eventfd.wake_samples"]).at_least(1)  # each eventfd read is a timed wake
    claim(v, s["compute.total_work_units"]).at_least(1)
    _all_native(v, s, "compute")  # the messenger spins, the receivers multiply matrices
    _all_native(v, s, "mutex")
    _all_native(v, s, "eventfd")
    _all_native(v, s, "fanout", workers=1)  # only the messenger spins; receivers just wait
    return v.into_result(result)


@ktstr_test(llcs=2, cores=2, duration=1.5, min_iteration_rate=1.0,
            max_spread_pct=Off("the batch cgroup mixes nice -5 and nice 0 workers: shares differ by design"))
def placement(ctx):
    """Per-worker policy (BATCH, IDLE, FIFO, RR), negative nice, memory policy and affinity
    intents: single_cpu keeps a worker on one CPU, llc_aligned inside one LLC. The batch
    cgroup holds a nice -5 worker beside a nice 0 one: their shares differ by design (no
    spread bound; measured 35.25% once against the 35% default)."""
    llc1 = ctx.topo.cpus_in_llc(1)
    result = execute_defs(ctx, [
        CgroupDef("batch").workers(1).policy("batch").with_work(Work(WorkType.SPIN_WAIT, 1, nice=-5)),
        CgroupDef("idle").workers(1).policy(SchedPolicy.idle()),
        CgroupDef("rt").workers(1).work(WorkType.BURSTY, burst_ms=20, sleep_ms=40).policy("fifo:1")
        .with_work(Work(WorkType.BURSTY, 1, (("burst_ms", 20), ("sleep_ms", 40)), policy=SchedPolicy.rr(1))),
        CgroupDef("mem").workers(1).mem_policy(MemPolicy.bind(0)),
        CgroupDef("single").workers(2).affinity(AffinityIntent.single_cpu()),
        CgroupDef("llc").workers(2).cpuset(llc1).affinity(AffinityIntent.llc_aligned()),
    ])
    v = Claims()
    claim(v, result.stats["single.num_cpus"]).equals(1)
    claim(v, result.stats["rt.num_workers"]).equals(2)
    return v.into_result(result)


class _Stats:
    """cgroup-prefixed stats as attributes, for v.claim(...).field labels."""

    def __init__(self, stats, name):
        self.name, self._s = name, stats

    def __getattr__(self, field):
        return self._s[f"{self.name}.{field}"]
