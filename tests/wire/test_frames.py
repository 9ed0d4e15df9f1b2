"""Frames: round trip, and every kind of corruption reported, never silently skipped."""

import subprocess
import zlib
from pathlib import Path

import pytest

from ktstr.wire import ktstr_pb2 as pb
from ktstr.wire.frames import (HEADER, HELLO, MAGIC, MAX_PAYLOAD, RUN_END, TEST_RESULT, FrameWriter, encode_frame,
                               split_frames)
from ktstr.wire.messages import Hello


def stream() -> bytes:
    result = pb.TestResult(name="t1", status=pb.FAIL, reason="claim failed")
    return (encode_frame(HELLO, pb.Hello(kernel_release="6.12", topology="1n1l2c1t").SerializeToString())
            + encode_frame(TEST_RESULT, result.SerializeToString())
            + encode_frame(RUN_END, pb.RunEnd().SerializeToString()))


def test_frames_round_trip_and_garbage_is_reported():
    data = b"junk" + encode_frame(3, b"abc") + encode_frame(4, b"") + b"\r\n"
    frames, errors = split_frames(data)
    assert [(f.type, f.payload, f.offset) for f in frames] == [(3, b"abc", 4), (4, b"", 4 + HEADER.size + 3)]
    assert errors == ["4 byte(s) of garbage at offset 0 before a frame",
                      f"2 byte(s) of garbage at offset {len(data) - 2} (no frame magic)"]


def test_bad_crc_is_reported_and_the_reader_resyncs():
    data = bytearray(stream())
    data[HEADER.size + 3] ^= 0xFF  # flip a payload byte of the first frame
    frames, errors = split_frames(bytes(data))
    assert len(errors) == 1 and errors[0].startswith("bad CRC in frame at offset 0: type 1")
    assert [f.type for f in frames] == [TEST_RESULT, RUN_END]  # the good frames after it still arrive


def test_truncated_frame_and_header_are_reported():
    good = encode_frame(2, b"hello")
    frames, errors = split_frames(good + good[:-2])
    assert [f.payload for f in frames] == [b"hello"]
    assert errors == [f"truncated frame at offset {len(good)}: type 2, 3 of 5 payload bytes"]
    _, errors = split_frames(good[: HEADER.size - 1])
    assert errors == [f"truncated frame header at offset 0 ({HEADER.size - 1} of {HEADER.size} bytes)"]


def test_oversized_length_is_reported():
    header = HEADER.pack(MAGIC, HELLO, 0, 0, 1 << 30, zlib.crc32(b""), bytes(32))
    _, errors = split_frames(header + b"x" * 16)
    assert errors == [f"oversized frame at offset 0: length {1 << 30} > {MAX_PAYLOAD}"]


def test_encoder_refuses_oversized_payloads():
    with pytest.raises(ValueError, match="exceeds"):
        encode_frame(HELLO, b"x" * (MAX_PAYLOAD + 1))


def test_writer_writes_whole_frames(tmp_path):
    path = tmp_path / "com2"
    with open(path, "wb") as f:
        FrameWriter(f.fileno()).send(Hello("6.12"))
    frames, errors = split_frames(path.read_bytes())
    assert errors == [] and pb.Hello.FromString(frames[0].payload).kernel_release == "6.12"


def test_checked_in_code_matches_the_schema(tmp_path):
    proto = Path("ktstr/wire/ktstr.proto")
    subprocess.run(["protoc", f"--proto_path={proto.parent}", f"--python_out={tmp_path}", proto.name],
                   check=True)
    assert (tmp_path / "ktstr_pb2.py").read_text() == Path("ktstr/wire/ktstr_pb2.py").read_text(), \
        "ktstr/wire/ktstr_pb2.py is stale: run protoc --python_out=. ktstr.proto in ktstr/wire"


def test_frames_carry_a_sequence_and_a_mac_only_the_key_holder_makes():
    import os as _os

    from ktstr.wire.frames import KEY_BYTES

    key = _os.urandom(KEY_BYTES)
    signed = encode_frame(TEST_RESULT, b"abc", seq=7, key=key)
    unsigned = encode_frame(TEST_RESULT, b"abc", seq=7)
    other = encode_frame(TEST_RESULT, b"abc", seq=7, key=_os.urandom(KEY_BYTES))
    frames, errors = split_frames(signed + unsigned + other, key)
    assert errors == []
    assert [(f.seq, f.mac_ok) for f in frames] == [(7, True), (7, False), (7, False)]
    # the MAC covers the header too: the same payload renumbered is not the agent's
    renumbered = bytearray(signed)
    renumbered[8] ^= 1  # seq's low byte
    [frame], _ = split_frames(bytes(renumbered), key)
    assert frame.seq == 6 and frame.mac_ok is False
    # without a key nothing is checked
    [frame], _ = split_frames(signed)
    assert frame.mac_ok is None


def test_frame_errors_are_folded_by_kind_with_counts():
    good = encode_frame(TEST_RESULT, b"abc")
    bad = bytearray(good)
    bad[-1] ^= 0xFF
    _, errors = split_frames(bytes(bad) * 1000 + good)
    assert len(errors) == 1
    assert errors[0].startswith("bad CRC in frame at offset 0: type 4") and errors[0].endswith("(and 999 more like it)")
