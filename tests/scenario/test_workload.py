"""Real forked workers on the host: every work type runs, reports and is reaped."""

import os
import time

import pytest

from ktstr.workload import (AffinityIntent, MemPolicy, ORIGINAL_NAMES, Phase, SchedPolicy,
                            WorkloadConfig, WorkloadHandle, WorkType)


def _count_loops(stop, report):
    while not stop():
        report.iterations += 1
        report.work_units += 3
        time.sleep(0.001)


def sample_config(work_type: WorkType) -> WorkloadConfig:
    """A small, valid config of each work type (a whole group for grouped ones)."""
    cfg = WorkloadConfig(work_type=work_type)
    if work_type in (WorkType.FUTEX_FAN_OUT, WorkType.FAN_OUT_COMPUTE):
        cfg.with_params(fan_out=2)
    elif work_type is WorkType.MUTEX_CONTENTION:
        cfg.with_params(contenders=3)
    elif work_type is WorkType.SEQUENCE:
        cfg.with_params(phases=[Phase.spin(0.02), Phase.sleep(0.01), Phase.yield_(0.01), Phase.io(0.01)])
    elif work_type is WorkType.CUSTOM:
        cfg.with_params(custom=_count_loops)
    elif work_type is WorkType.PAGE_FAULT_CHURN:
        cfg.with_params(region_kb=256, touches_per_cycle=16)
    cfg.num_workers = max(2, cfg.group_size)
    return cfg


@pytest.mark.parametrize("work_type", list(WorkType), ids=lambda w: w.value)
def test_every_work_type_makes_progress_and_reports(work_type):
    cfg = sample_config(work_type)
    handle = WorkloadHandle.spawn(cfg)
    handle.start()
    time.sleep(1.0)  # a loaded host (a kernel build next door) gives each worker little CPU
    reports = handle.stop_and_collect()
    assert len(reports) == cfg.num_workers
    for r in reports:
        assert r.completed and r.exit_info == ""
        assert r.iterations > 0, f"{work_type.value} made no progress"
        assert r.wall_time_ns > 0
        no_cpu_work = work_type in (WorkType.SLEEP_HEAVY, WorkType.FORK_EXIT) or (
            work_type is WorkType.FUTEX_FAN_OUT and not r.is_messenger)  # receivers only wait
        assert r.work_units > 0 or no_cpu_work, r
        if work_type is not WorkType.CUSTOM:  # a custom loop keeps its own telemetry
            assert r.cpus_used
    for pid in handle.pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped: no zombies left


@pytest.mark.parametrize("work_type", [WorkType.PIPE_PINGPONG, WorkType.EVENTFD_PINGPONG,
                                       WorkType.FUTEX_PINGPONG], ids=lambda w: w.value)
def test_wake_latency_is_sampled_for_ping_pong(work_type):
    handle = WorkloadHandle.spawn(WorkloadConfig(num_workers=2, work_type=work_type))
    handle.start()
    time.sleep(1.0)  # a loaded host (other builds) may leave a pair few turns in less
    reports = handle.stop_and_collect()
    assert all(r.wake_latencies_us for r in reports)
    assert all(0 <= w < 1e6 for r in reports for w in r.wake_latencies_us)


def test_workers_wait_for_start():
    handle = WorkloadHandle.spawn(WorkloadConfig(num_workers=1))
    time.sleep(0.2)  # not started: the worker must not have run its loop yet
    with open(f"/proc/{handle.pids[0]}/stat") as f:
        utime = int(f.read().split()[13])
    assert utime < 10  # ticks
    handle.stop_and_collect()


def test_a_worker_that_cannot_run_after_the_start_is_off_cpu_for_that_wait():
    """The window opens at the parent's start command, not when the worker first runs: a
    worker kept from running for its first 0.4 s was off-CPU then (a window opened late
    hid that, and a starved late starter looked like a short, fair run)."""
    import signal

    handle = WorkloadHandle.spawn(WorkloadConfig(num_workers=1))
    pid = handle.pids[0]
    time.sleep(0.2)  # the worker reaches its wait for the start
    os.kill(pid, signal.SIGSTOP)
    handle.start()
    time.sleep(0.4)
    os.kill(pid, signal.SIGCONT)
    time.sleep(0.4)
    (r,) = handle.stop_and_collect()
    assert r.completed, r
    assert r.start_delay_ns >= 0.35e9, r.start_delay_ns
    assert r.wall_time_ns >= 0.75e9, r.wall_time_ns
    assert r.off_cpu_pct >= 40, r.off_cpu_pct


def test_pairs_need_an_even_count():
    with pytest.raises(ValueError, match="groups of 2"):
        WorkloadHandle.spawn(WorkloadConfig(num_workers=3, work_type=WorkType.PIPE_PINGPONG))


def test_a_hung_worker_is_killed_and_reported():
    handle = WorkloadHandle.spawn(WorkloadConfig(num_workers=1))
    handle.start()
    os.kill(handle.pids[0], 19)  # SIGSTOP: it cannot answer the stop request
    reports = handle.stop_and_collect(timeout_s=0.5)
    assert not reports[0].completed
    assert "signal 9" in reports[0].exit_info


def test_futex_pairs_take_turns():
    # Strict alternation: in a pair the two sides' hand-overs differ by at most one.
    handle = WorkloadHandle.spawn(WorkloadConfig(num_workers=4, work_type=WorkType.FUTEX_PINGPONG))
    handle.start()
    time.sleep(0.3)
    reports = handle.stop_and_collect()
    for a, b in ((reports[0], reports[1]), (reports[2], reports[3])):
        assert a.iterations > 10 and abs(a.iterations - b.iterations) <= 1, (a.iterations, b.iterations)


def test_workers_are_named_after_their_cgroup_or_work_type():
    named = WorkloadHandle.spawn(WorkloadConfig(num_workers=2, name="a_long_cgroup_name"))
    plain = WorkloadHandle.spawn(WorkloadConfig(num_workers=1, work_type=WorkType.YIELD_HEAVY))
    deadline = time.monotonic() + 5
    while True:  # the children name themselves right after fork
        comms = [open(f"/proc/{pid}/comm").read().strip() for pid in named.pids + plain.pids]
        if all("/" in c for c in comms) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    named.stop_and_collect()
    plain.stop_and_collect()
    assert comms == ["a_long_cgroup/0", "a_long_cgroup/1", "yield_heavy/0"]


def test_the_original_twenty_names_map_to_work_types():
    assert len(ORIGINAL_NAMES) == 20 and set(ORIGINAL_NAMES.values()) <= set(WorkType)
    assert WorkType.from_name("CpuSpin") is WorkType.SPIN_WAIT
    assert WorkType.from_name("FanOutCompute") is WorkType.FAN_OUT_COMPUTE
    assert WorkType.from_name("cache-yield") is WorkType.CACHE_YIELD
    assert WorkType.from_name("pagefaultchurn") is WorkType.PAGE_FAULT_CHURN


def test_each_record_names_real_parameters_and_a_loop():
    """A WorkTypeSpec's params are WorkloadConfig fields (with_params sets them by name), its
    loop is a function, and its link sets the group size."""
    config_fields = set(WorkloadConfig.__dataclass_fields__)
    for wt in WorkType:
        assert set(wt.spec.params) <= config_fields, wt
        assert callable(wt.spec.loop), wt
    assert WorkloadConfig(work_type=WorkType.SPIN_WAIT).group_size == 1
    assert WorkloadConfig(work_type=WorkType.EVENTFD_PINGPONG).group_size == 2
    assert WorkloadConfig(work_type=WorkType.FUTEX_FAN_OUT).with_params(fan_out=3).group_size == 4
    assert WorkloadConfig(work_type=WorkType.MUTEX_CONTENTION).with_params(contenders=5).group_size == 5


def test_a_record_check_names_what_is_missing():
    with pytest.raises(ValueError, match="sequence needs phases"):
        WorkloadConfig(work_type=WorkType.SEQUENCE).validate()
    with pytest.raises(ValueError, match="custom needs custom=fn"):
        WorkloadConfig(work_type=WorkType.CUSTOM).validate()


def test_parameters_a_work_type_does_not_read_are_refused():
    with pytest.raises(ValueError, match="spin_wait takes no parameter fan_out; its parameters: spin_iters"):
        WorkloadConfig(work_type=WorkType.SPIN_WAIT).with_params(fan_out=3)
    with pytest.raises(ValueError, match="sequence needs phases"):
        WorkloadHandle.spawn(WorkloadConfig(work_type=WorkType.SEQUENCE))
    with pytest.raises(ValueError, match="groups of 4"):
        WorkloadHandle.spawn(WorkloadConfig(num_workers=3, work_type=WorkType.FUTEX_FAN_OUT).with_params(fan_out=3))


def test_telemetry_has_schedstat_deltas_and_timed_migrations():
    handle = WorkloadHandle.spawn(WorkloadConfig(num_workers=1, work_type=WorkType.AFFINITY_CHURN))
    handle.start()
    time.sleep(0.4)
    [r] = handle.stop_and_collect()
    assert r.schedstat_run_count > 0 and r.schedstat_cpu_time_ns > 0 and r.schedstat_run_delay_ns >= 0
    if len(os.sched_getaffinity(0)) > 1:
        assert r.migrations > 0 and r.migration_log
        m = r.migration_log[0]
        assert m["from_cpu"] != m["to_cpu"] and m["at_ms"] >= 0


def test_fan_out_names_its_messenger_and_samples_receiver_wakes():
    cfg = WorkloadConfig(num_workers=3, work_type=WorkType.FUTEX_FAN_OUT).with_params(fan_out=2, spin_iters=20000)
    handle = WorkloadHandle.spawn(cfg)
    handle.start()
    time.sleep(0.5)
    reports = handle.stop_and_collect()
    assert [r.is_messenger for r in reports] == [True, False, False]
    assert all(r.wake_sample_total > 0 for r in reports[1:]), [r.wake_sample_total for r in reports]


def test_mutex_contenders_share_one_lock_and_time_contended_waits():
    # Cause of CI's red run (2026-12-07, a worker with 0 iterations after 0.5 s): glibc's
    # semaphore is unfair, and Bazel ran this beside three VM tests. A releaser takes the lock
    # again as soon as its work spin ends; a woken waiter wins only if it gets a CPU inside
    # that gap, and a holder preempted while holding stalls everyone. Reproduced here with ten
    # busy loops on 2 cores: (0, 81, 0) iterations in 0.5 s with work_iters=10. Starvation
    # under load is the work type's real behaviour (scheduler runs see it as max_gap_ms), so
    # this test asks only what holds on any host: with the lock free half of the time (equal
    # spins), every contender acquires it within a window that grows until it has (7.5 s at
    # most), and some acquisitions were contended and timed.
    cfg = WorkloadConfig(num_workers=3, work_type=WorkType.MUTEX_CONTENTION).with_params(
        contenders=3, hold_iters=20000, work_iters=20000)
    seen = []
    for window_s in (0.5, 1.0, 2.0, 4.0):
        handle = WorkloadHandle.spawn(cfg)
        handle.start()
        time.sleep(window_s)
        reports = handle.stop_and_collect()
        seen.append((window_s, [(r.iterations, r.wake_sample_total, r.exit_info) for r in reports]))
        if all(r.iterations > 0 for r in reports) and sum(r.wake_sample_total for r in reports) > 0:
            return
    raise AssertionError(f"a contender never acquired the lock, or no acquisition was contended: {seen}")


def _may_raise_priority() -> bool:
    """Negative nice needs CAP_SYS_NICE (the guest agent has it; Bazel's sandbox does not)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, -1)
            os._exit(0)
        except PermissionError:
            os._exit(1)
    return os.waitpid(pid, 0)[1] == 0


def test_placement_policy_nice_and_affinity_intent_are_applied():
    nice = -5 if _may_raise_priority() else 5

    def probe(stop, report):
        seen_path = f"/tmp/ktstr-probe-{os.getpid()}"
        with open(seen_path, "w") as f:
            f.write(f"{os.sched_getscheduler(0)} {os.getpriority(os.PRIO_PROCESS, 0)} "
                    f"{sorted(os.sched_getaffinity(0))}")
        while not stop():
            time.sleep(0.01)
        report.iterations = 1

    cfg = WorkloadConfig(num_workers=1, work_type=WorkType.CUSTOM, nice=nice, policy=SchedPolicy.batch(),
                         affinity=AffinityIntent.single_cpu()).with_params(custom=probe)
    handle = WorkloadHandle.spawn(cfg)
    handle.start()
    time.sleep(0.3)
    pid = handle.pids[0]
    [r] = handle.stop_and_collect()
    text = open(f"/tmp/ktstr-probe-{pid}").read()
    os.unlink(f"/tmp/ktstr-probe-{pid}")
    first = min(os.sched_getaffinity(0))
    assert r.completed and text == f"3 {nice} [{first}]", text


def test_a_worker_that_cannot_be_placed_says_why():
    cfg = WorkloadConfig(num_workers=1, mem_policy=MemPolicy.bind(63))
    handle = WorkloadHandle.spawn(cfg)
    handle.start()
    [r] = handle.stop_and_collect()
    assert not r.completed and "set_mempolicy" in r.exit_info, r.exit_info


def test_policy_strings_parse_and_validate():
    assert SchedPolicy.parse("fifo:10") == SchedPolicy.fifo(10)
    assert str(SchedPolicy.parse("ext")) == "ext"
    with pytest.raises(ValueError, match="priority must be in 1..99"):
        SchedPolicy.rr(0).validate()
    with pytest.raises(ValueError, match="unknown scheduling policy"):
        SchedPolicy.parse("deadline")


def test_native_hot_loops_match_the_python_ones():
    from ktstr.workload import native

    if not native.AVAILABLE:
        pytest.skip("libktstr_hot.so not built (bazel build //native:libktstr_hot.so)")
    buf = native.CacheBuffer(256, 64)
    assert buf.pass_() == 4 and list(buf.buf[::64]) == [1, 1, 1, 1]
    m = native.Matrices(3)
    m.multiply()
    a, b = [i % 7 for i in range(9)], [i % 5 for i in range(9)]
    want = [sum(a[i * 3 + k] * b[k * 3 + j] for k in range(3)) for i in range(3) for j in range(3)]
    assert list(m.c) == want
    handle = WorkloadHandle.spawn(WorkloadConfig(num_workers=1))
    handle.start()
    time.sleep(0.2)
    [r] = handle.stop_and_collect()
    assert r.hot_loop == "native" and r.work_units >= 2000
