"""The result stream's messages through the real schema (ktstr_pb2): what the guest sends is
what the host decodes, and every undecodable frame is a stream error."""

import pytest

from ktstr.wire import ktstr_pb2 as pb
from ktstr.wire.frames import HELLO, LOG, MESSAGE_NAMES, RUN_END, TEST_RESULT, TEST_START, encode_frame
from ktstr.wire.messages import (MESSAGES, ClaimRecord, GuestTestResult, Hello, Log, RunEnd, TestStart, decode,
                                 parse_payload)
from ktstr.wire.status import Status
from ktstr.wire.verifier import VerifierRecord


def frame(ftype, msg):
    return encode_frame(ftype, msg.SerializeToString())


def test_a_whole_run_round_trips():
    sent = GuestTestResult(
        name="fair", status=Status.FAIL, reason="1 claim failed", details=["cg_0 ran 3% of the time"],
        claims=[ClaimRecord("cg_0.share_pct", "3", ">= 30", False), ClaimRecord("cg_1.share_pct", "97", "<= 70")],
        scheduler_output="scx_simple: exiting", sched_ext_exit='BPF scheduler "simple" disabled (runnable task stall)',
        duration_s=1.5, stats={"cg_0.total_iterations": 42.0, "a": 1.0}, sched_ext_dump="CPU states\n----------")
    stream = b"".join([
        frame(HELLO, pb.Hello(kernel_release="6.12.117", topology="1n1l2c1t")),
        frame(TEST_START, pb.TestStart(name="fair")),
        frame(LOG, pb.Log(text="scheduler attached")),
        frame(TEST_RESULT, sent.to_pb()),
        frame(RUN_END, pb.RunEnd()),
    ])
    guest = decode(stream)
    assert guest.stream_errors == []
    assert guest.finished and guest.agent_error == ""
    assert guest.started == ["fair"]
    assert guest.results["fair"] == sent
    assert list(guest.results["fair"].stats) == ["a", "cg_0.total_iterations"]  # sorted: deterministic
    assert guest.agent_log == ["agent up: kernel 6.12.117, topology 1n1l2c1t", "scheduler attached"]
    assert guest.topology == "1n1l2c1t"


@pytest.mark.parametrize("message", [
    Hello("6.12.117", "1n2l2c1t", 4, 1.25), Log("scheduler attached"), TestStart("fair"), RunEnd("agent died"),
    GuestTestResult("fair", Status.SKIP, "no SMT", [ClaimRecord("a", "1", "<= 0")], ["d"], "out", "exit", 0.5,
                    {"s": 2.0}, "dump", ["max_gap_ms: noisy"]),
    VerifierRecord("end", "scx_simple", status=3)], ids=lambda m: type(m).__name__)
def test_every_message_type_round_trips_through_its_frame(message):
    """What the agent sends (FrameWriter.send: FRAME and to_pb) is what the host reads back."""
    assert MESSAGES[message.FRAME] is type(message)
    assert type(message.to_pb()).__name__ == MESSAGE_NAMES[message.FRAME]
    assert parse_payload(message.FRAME, message.to_pb().SerializeToString()) == message


def test_every_frame_type_has_its_message_type():
    assert set(MESSAGES) == set(MESSAGE_NAMES)


def test_a_verifier_record_in_the_agents_stream_breaks_the_protocol():
    guest = decode(frame(TEST_START, pb.TestStart(name="t")) + VerifierRecord("attach", "x").frame())
    assert guest.protocol_errors == ["a verifier cell's record at offset 55 in the agent's stream"]


def test_one_claim_text():
    claim = ClaimRecord("cg_0.max_gap_ms", "2500", "<= 2000")
    assert claim.text() == str(claim) == "cg_0.max_gap_ms = 2500, expected <= 2000"


def test_garbled_payload_is_a_stream_error_and_a_duplicate_result_a_protocol_error():
    ok = pb.TestResult(name="t", status=pb.PASS)
    start = frame(TEST_START, pb.TestStart(name="t"))
    guest = decode(start + encode_frame(TEST_RESULT, b"\xff\xff\xff") + frame(TEST_RESULT, ok) + frame(TEST_RESULT, ok))
    assert guest.results["t"].status == Status.PASS
    assert len(guest.stream_errors) == 1 and "DecodeError" in guest.stream_errors[0]
    assert guest.protocol_errors == ["two results for test 't' (PASS, then PASS)"]


def test_a_skip_sent_ahead_of_a_fail_does_not_hide_it():
    start = frame(TEST_START, pb.TestStart(name="t"))
    guest = decode(start + frame(TEST_RESULT, pb.TestResult(name="t", status=pb.SKIP, reason="skipped"))
                   + frame(TEST_RESULT, pb.TestResult(name="t", status=pb.FAIL, reason="real failure")))
    assert guest.results["t"].status == Status.FAIL and guest.results["t"].reason == "real failure"
    assert guest.protocol_errors == ["two results for test 't' (SKIP, then FAIL)"]


def test_a_result_before_its_start_and_frames_after_run_end_are_protocol_errors():
    guest = decode(frame(TEST_RESULT, pb.TestResult(name="t", status=pb.PASS)) + frame(RUN_END, pb.RunEnd())
                   + frame(TEST_START, pb.TestStart(name="u")))
    assert guest.results == {} and guest.started == []
    assert guest.protocol_errors == ["result for test 't' before its TestStart", "a TestStart frame after RunEnd"]


def test_unknown_frame_type_is_a_stream_error():
    guest = decode(encode_frame(99, b"x"))
    assert guest.stream_errors == [
        "undecodable frame at offset 0 (type 99): UnknownFrameError: 'unknown frame type 99'"]


def test_unspecified_status_is_rejected():
    guest = decode(frame(TEST_RESULT, pb.TestResult(name="t")))
    assert guest.results == {}
    assert "unknown test status 0 (STATUS_UNSPECIFIED)" in guest.stream_errors[0]


def test_framing_errors_come_first():
    guest = decode(b"noise" + frame(RUN_END, pb.RunEnd(agent_error="boom")))
    assert guest.stream_errors == ["5 byte(s) of garbage at offset 0 before a frame"]
    assert guest.finished and guest.agent_error == "boom"


@pytest.mark.parametrize("status", list(Status))
def test_every_status_crosses_the_wire(status):
    assert Status.from_pb(status.to_pb()) is status
    assert pb.Status.Name(status.to_pb()) == status.value


def test_checks_that_are_off_travel_as_prefixed_details_and_come_back_split():
    # The guest's AssertResult notes them among its details (the agent forwards details);
    # the host sees them as not_checked, never as failure details.
    from ktstr.checks import Assert, Off

    notes = Assert(max_spread_pct=Off("shares differ by design")).check([])
    sent = GuestTestResult("t", Status.PASS, details=list(notes.details) * 2)
    back = GuestTestResult.from_pb(sent.to_pb())
    assert back.details == [] and back.not_checked == ["max_spread_pct: shares differ by design"]
    typed = GuestTestResult("t", Status.FAIL, details=["cg_0: starved"], not_checked=["x: y"])
    again = GuestTestResult.from_pb(typed.to_pb())
    assert (again.details, again.not_checked) == (["cg_0: starved"], ["x: y"])


def test_each_frame_kind_is_kept_to_its_cap_with_the_rest_counted():
    """Issue 22: the host keeps at most MAX_LOGS log lines and MAX_TESTS tests of a stream,
    however many the guest sends, and says how many more came."""
    from ktstr.wire.bounds import MAX_LOGS, MAX_TESTS

    logs = b"".join(frame(LOG, pb.Log(text=f"line {i}")) for i in range(MAX_LOGS + 100))
    guest = decode(frame(HELLO, pb.Hello(kernel_release="6.12", topology="1n1l1c1t")) + logs)
    assert len(guest.agent_log) == MAX_LOGS + 1
    assert guest.agent_log[-1] == "101 more log frame(s) elided"  # Hello's line took one place
    starts = b"".join(frame(TEST_START, pb.TestStart(name=f"t{i}")) for i in range(MAX_TESTS + 5))
    guest = decode(starts)
    assert len(guest.started) == MAX_TESTS
    assert any(e.startswith(f"more than {MAX_TESTS} tests started") for e in guest.protocol_errors)


def test_frames_past_the_cap_are_not_read_and_the_rest_is_counted():
    from ktstr.wire.bounds import MAX_FRAMES
    from ktstr.wire.frames import split_frames

    one = frame(LOG, pb.Log(text="x"))
    frames, errors = split_frames(one * (MAX_FRAMES + 3))
    assert len(frames) == MAX_FRAMES
    assert errors == [f"frames past the first {MAX_FRAMES} not read ({3 * len(one)} byte(s) elided)"]


def test_the_result_stream_is_read_to_its_cap_and_the_rest_counted(tmp_path):
    from ktstr.host.engines.boot_io import read_capped
    from ktstr.wire.bounds import RESULT_STREAM_CAP

    path = tmp_path / "com2.bin"
    path.write_bytes(b"\0" * (RESULT_STREAM_CAP + 1234))
    data, elided = read_capped(path, RESULT_STREAM_CAP)
    assert len(data) == RESULT_STREAM_CAP and elided == 1234
    guest = decode(data, elided)
    said = f"1234 byte(s) of the result stream past the host's cap of {RESULT_STREAM_CAP} not read"
    assert said in guest.stream_errors
