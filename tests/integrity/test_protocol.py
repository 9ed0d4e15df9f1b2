"""Adversarial result streams, judged by the real runner, decoder and evaluator (no VM: a
fake engine plays the bytes a guest would send, through the real BootIO). Each asserts the
run fails (or is inconclusive) with a reason naming the fault."""

from __future__ import annotations

import pytest

from ktstr.host import runner
from ktstr.monitor.hook import MonitorHook
from ktstr.host.engines import ExitKind
from ktstr.wire import ktstr_pb2 as pb
from ktstr.wire.frames import RUN_END, TEST_RESULT, TEST_START, encode_frame
from ktstr.wire.status import Status

from fake_guest import FakeGuest, Lost, Raw, agent_steps, request


def judge(tmp_path, steps, names=("t",), exit_kind=ExitKind.POWEROFF):
    report = runner.run(request(tmp_path, list(names)), FakeGuest(steps, exit_kind), hook=MonitorHook())
    return report.outcomes


def test_a_well_behaved_agent_passes(tmp_path):
    [t] = judge(tmp_path, agent_steps(["t"]))
    assert t.verdict == Status.PASS, t.reason


def test_two_results_for_one_test_fail_the_run(tmp_path):
    steps = agent_steps(["t"])
    steps.insert(-1, (TEST_RESULT, pb.TestResult(name="t", status=pb.PASS)))
    [t] = judge(tmp_path, steps)
    assert t.verdict == Status.FAIL and "two results for test 't' (PASS, then PASS)" in t.reason


def test_a_skip_sent_ahead_of_a_fail_does_not_survive_it(tmp_path):
    steps = [(TEST_START, pb.TestStart(name="t")), (TEST_RESULT, pb.TestResult(name="t", status=pb.SKIP)),
             (TEST_RESULT, pb.TestResult(name="t", status=pb.FAIL, reason="the real failure")),
             (RUN_END, pb.RunEnd())]
    [t] = judge(tmp_path, steps)
    assert t.verdict == Status.FAIL and t.reason == "the real failure"
    assert "result protocol: two results for test 't' (SKIP, then FAIL)" in t.details


def test_no_run_end_fails_even_with_a_power_off(tmp_path):
    [t] = judge(tmp_path, agent_steps(["t"])[:-1])
    assert t.verdict == Status.FAIL
    assert t.reason.startswith("result protocol: no RunEnd from the agent, yet the guest powered off")


def test_a_result_before_its_start_and_a_test_never_asked_for(tmp_path):
    steps = [(TEST_RESULT, pb.TestResult(name="t", status=pb.PASS)), (TEST_START, pb.TestStart(name="t")),
             (TEST_RESULT, pb.TestResult(name="t", status=pb.PASS)), (TEST_START, pb.TestStart(name="x")),
             (TEST_RESULT, pb.TestResult(name="x", status=pb.PASS)), (RUN_END, pb.RunEnd())]
    [t] = judge(tmp_path, steps)
    assert t.verdict == Status.FAIL and "result for test 't' before its TestStart" in t.reason
    assert "result protocol: a frame for test 'x' that was never asked for" in t.details


def test_forged_frames_without_the_key_are_not_believed_and_fail_the_run(tmp_path):
    # What a test body or a scheduler's loader can write: well-formed frames, no key.
    forged = (encode_frame(TEST_START, pb.TestStart(name="t").SerializeToString(), seq=1)
              + encode_frame(TEST_RESULT, pb.TestResult(name="t", status=pb.PASS).SerializeToString(), seq=2)
              + encode_frame(RUN_END, pb.RunEnd().SerializeToString(), seq=3))
    steps = agent_steps(["t"])[:2] + [Raw(forged)]
    [t] = judge(tmp_path, steps)
    assert t.verdict == Status.FAIL
    assert "bad MAC" in t.reason and "not written by the agent" in t.reason


def test_a_sequence_gap_fails_the_run(tmp_path):
    steps = agent_steps(["t"])
    steps.insert(1, Lost())
    [t] = judge(tmp_path, steps)
    assert t.verdict == Status.FAIL and "sequence gap: frame 2 where 1 was due" in t.reason


def test_a_splat_during_boot_fails_the_run_named(tmp_path):
    steps = [b"[ 0.2] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"] + agent_steps(["a", "b"])
    outcomes = judge(tmp_path, steps, ("a", "b"))
    for o in outcomes:
        assert o.verdict == Status.FAIL
        assert o.reason.startswith("kernel BUG outside every test's window (during boot, before any test began)")


def test_a_marker_line_from_user_space_does_not_move_a_splat(tmp_path):
    steps = agent_steps(["t"])
    steps.insert(3, b"[ 1.1] ktstr: test ghost begins\n[ 1.2] WARNING: CPU: 0 PID: 7 at x.c:1 f\n")
    [t] = judge(tmp_path, steps)
    assert t.verdict == Status.FAIL and t.reason.startswith("kernel WARNING: ")


@pytest.mark.parametrize("stream", [b"", b"\x00" * 4096, b"KTS2" * 1000, bytes(range(256)) * 64])
def test_garbage_or_nothing_is_a_named_failure_never_a_pass(tmp_path, stream):
    [t] = judge(tmp_path, [Raw(stream)] if stream else [])
    assert t.verdict in (Status.FAIL, Status.INCONCLUSIVE) and t.reason
    assert "without a result for this test" in t.reason
