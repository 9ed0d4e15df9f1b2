"""Real forked workers on the host: every work type runs, reports and is reaped."""

import os
import time

import pytest

from ktstr.workload import WorkloadConfig, WorkloadHandle, WorkType


@pytest.mark.parametrize("work_type", list(WorkType), ids=lambda w: w.value)
def test_every_work_type_makes_progress_and_reports(work_type):
    handle = WorkloadHandle.spawn(WorkloadConfig(num_workers=2, work_type=work_type))
    handle.start()
    time.sleep(0.3)
    reports = handle.stop_and_collect()
    assert len(reports) == 2
    for r in reports:
        assert r.completed and r.exit_info == ""
        assert r.iterations > 0, f"{work_type.value} made no progress"
        assert r.wall_time_ns > 0 and r.cpus_used
    for pid in handle.pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped: no zombies left


@pytest.mark.parametrize("work_type", [WorkType.PIPE_PINGPONG, WorkType.EVENTFD_PINGPONG,
                                       WorkType.FUTEX_PINGPONG], ids=lambda w: w.value)
def test_wake_latency_is_sampled_for_ping_pong(work_type):
    handle = WorkloadHandle.spawn(WorkloadConfig(num_workers=2, work_type=work_type))
    handle.start()
    time.sleep(0.2)
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
