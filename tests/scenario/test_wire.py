"""Frames: round trip, and every kind of corruption reported, never silently skipped."""

import subprocess
import zlib
from pathlib import Path

import pytest

from ktstr.host.guest_messages import to_guest_run
from ktstr.host.result_stream import split_frames
from ktstr.wire import ktstr_pb2 as pb
from ktstr.wire.framing import HEADER, HELLO, RUN_END, TEST_RESULT, encode_frame


def stream() -> bytes:
    result = pb.TestResult(name="t1", status=pb.FAIL, reason="claim failed")
    result.claims.add(label="cg_0.max_gap_ms", value="120", bound="<= 100", passed=False)
    result.stats["cg_0.total_iterations"] = 42.0
    return (encode_frame(HELLO, pb.Hello(kernel_release="6.12", topology="1n1l2c1t").SerializeToString())
            + encode_frame(TEST_RESULT, result.SerializeToString())
            + encode_frame(RUN_END, pb.RunEnd().SerializeToString()))


def test_round_trip_through_the_host_decoder():
    frames, errors = split_frames(stream())
    assert errors == []
    guest = to_guest_run(frames)
    assert guest.finished
    r = guest.results["t1"]
    assert r.claims[0].label == "cg_0.max_gap_ms" and r.claims[0].bound == "<= 100"
    assert r.stats["cg_0.total_iterations"] == 42.0


def test_bad_crc_is_reported():
    data = bytearray(stream())
    data[HEADER.size + 3] ^= 0xFF  # flip a payload byte of the first frame
    frames, errors = split_frames(bytes(data))
    assert any("crc" in e.lower() for e in errors)
    assert len(frames) == 2  # the good frames after it still arrive


def test_truncated_stream_is_reported():
    data = stream()[:-3]
    _, errors = split_frames(data)
    assert errors and "truncated" in errors[-1]


def test_garbage_before_a_frame_is_skipped_and_reported():
    frames, errors = split_frames(b"console noise\r\n" + stream())
    assert len(frames) == 3
    assert "garbage" in errors[0]


def test_oversized_length_is_reported():
    header = HEADER.pack(b"KTS1", HELLO, 0, 1 << 30, zlib.crc32(b""))
    _, errors = split_frames(header + b"x" * 16)
    assert any("oversized" in e for e in errors)


def test_encoder_refuses_oversized_payloads():
    with pytest.raises(ValueError):
        encode_frame(HELLO, b"x" * (16 * 1024 * 1024 + 1))


def test_checked_in_code_matches_the_schema(tmp_path):
    proto = Path("ktstr/wire/ktstr.proto")
    subprocess.run(["protoc", f"--proto_path={proto.parent}", f"--python_out={tmp_path}", proto.name],
                   check=True)
    assert (tmp_path / "ktstr_pb2.py").read_text() == Path("ktstr/wire/ktstr_pb2.py").read_text(), \
        "ktstr/wire/ktstr_pb2.py is stale: run protoc --python_out=. ktstr.proto in ktstr/wire"
