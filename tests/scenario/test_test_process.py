"""A test body in its own process: its result comes back; a crash, a kill or an exception is
named; orphans are reaped."""

import os
import signal
import time

from ktstr.checks import AssertResult
from ktstr.checks.result import ClaimRecord
from ktstr.guest.test_process import reap, run_isolated


def _no_kmsg():
    return []


def test_the_result_comes_back_from_the_child():
    def body():
        r = AssertResult(stats={"pid": float(os.getpid())})
        r.claims.append(ClaimRecord("x", "1", "<= 0", False))
        r.add_failure("claim failed: x")
        return r

    r = run_isolated("t_ok", body, _no_kmsg)
    assert r.stats["pid"] != os.getpid() and not r.passed and r.claims[0].label == "x"


def test_a_killed_test_process_names_the_signal_and_the_oom_lines():
    def body():
        os.kill(os.getpid(), signal.SIGKILL)

    kmsg = ["oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=python3,pid=312",
            "[   5.1] Out of memory: Killed process 312 (python3) total-vm:900000kB, anon-rss:800000kB"]
    r = run_isolated("t_kill", body, lambda: kmsg)
    assert not r.passed
    assert "killed by SIGKILL" in r.reason and "OOM killer: Out of memory: Killed process 312 (python3)" in r.reason


def test_an_exception_outside_the_body_result_is_reported():
    def body():
        raise MemoryError("no more")

    r = run_isolated("t_raise", body, _no_kmsg)
    assert not r.passed and "exited 70 without a result" in r.reason


def test_orphans_are_reaped_but_kept_pids_are_not():
    keep = os.fork()
    if keep == 0:
        os._exit(0)
    other = os.fork()
    if other == 0:
        os._exit(0)
    time.sleep(0.2)
    reap(keep_pids=[keep])
    assert not os.path.exists(f"/proc/{other}")
    assert os.path.exists(f"/proc/{keep}")  # still a zombie for its owner to collect
    os.waitpid(keep, 0)


def test_a_test_past_its_deadline_is_killed_and_named():
    r = run_isolated("t_slow", lambda: time.sleep(30), _no_kmsg, timeout_s=0.3)
    assert not r.passed and "did not finish within 0.3s and was killed" in r.reason


def test_the_test_process_reports_over_its_pipe_and_holds_no_result_channel():
    from ktstr.guest.test_process import log_to_agent

    channel_r, channel_w = os.pipe()  # stands in for the agent's COM2 descriptor
    logs = []

    def body():
        log_to_agent("from the test process")
        try:
            os.fstat(channel_w)
            held = 1.0
        except OSError:
            held = 0.0
        return AssertResult(stats={"held": held})

    r = run_isolated("t_pipe", body, _no_kmsg, on_log=logs.append, in_child=lambda: os.close(channel_w))
    os.close(channel_r)
    os.close(channel_w)
    assert logs == ["from the test process"]
    assert r.passed and r.stats == {"held": 0.0}
