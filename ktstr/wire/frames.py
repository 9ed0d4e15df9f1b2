"""Frames of the result stream (guest -> host over COM2).

    magic b"KTS1" | type u16 | flags u16 | length u32 | crc32(payload) u32 | payload

Little endian. The guest writes frames with FrameWriter; the host reads them with
split_frames, which resynchronises on the magic and reports every bad frame (garbage, bad
CRC, truncated, oversized) as an error, never silently. The payload of each frame type is
the protobuf message named in MESSAGE_NAMES (ktstr.proto).
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from typing import Protocol

MAGIC = b"KTS1"
HEADER = struct.Struct("<4sHHII")
MAX_PAYLOAD = 16 * 1024 * 1024

HELLO, LOG, TEST_START, TEST_RESULT, RUN_END = 1, 2, 3, 4, 5

# Frame type -> the ktstr.proto message its payload holds. A new frame type: a constant
# above, a message in ktstr.proto, a line here and its fold in messages.decode_frames.
MESSAGE_NAMES = {HELLO: "Hello", LOG: "Log", TEST_START: "TestStart", TEST_RESULT: "TestResult",
                 RUN_END: "RunEnd"}


class Message(Protocol):
    def SerializeToString(self) -> bytes: ...


def encode_frame(frame_type: int, payload: bytes, flags: int = 0) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"frame payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return HEADER.pack(MAGIC, frame_type, flags, len(payload), zlib.crc32(payload)) + payload


class FrameWriter:
    """Writes whole frames to a file descriptor (the raw COM2 tty in the guest)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, frame_type: int, message: Message) -> None:
        data = encode_frame(frame_type, message.SerializeToString())
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]


@dataclass(frozen=True)
class RawFrame:
    type: int
    flags: int
    payload: bytes
    offset: int


def split_frames(data: bytes) -> tuple[list[RawFrame], list[str]]:
    """The whole frames in `data`, and one error text per thing that was not one."""
    frames: list[RawFrame] = []
    errors: list[str] = []
    pos = 0
    while pos < len(data):
        start = data.find(MAGIC, pos)
        if start < 0:
            errors.append(f"{len(data) - pos} byte(s) of garbage at offset {pos} (no frame magic)")
            break
        if start > pos:
            errors.append(f"{start - pos} byte(s) of garbage at offset {pos} before a frame")
        if len(data) - start < HEADER.size:
            errors.append(f"truncated frame header at offset {start} ({len(data) - start} of {HEADER.size} bytes)")
            break
        _, ftype, flags, length, crc = HEADER.unpack_from(data, start)
        body = start + HEADER.size
        if length > MAX_PAYLOAD:
            errors.append(f"oversized frame at offset {start}: length {length} > {MAX_PAYLOAD}")
            pos = _skip_bad_frame(data, start)
            continue
        if body + length > len(data):
            errors.append(f"truncated frame at offset {start}: type {ftype}, {len(data) - body} of {length} "
                          f"payload bytes")
            # The guest may have died mid-write; a later magic could still be a whole frame.
            pos = _skip_bad_frame(data, start)
            continue
        payload = data[body : body + length]
        actual = zlib.crc32(payload) & 0xFFFFFFFF
        if actual != crc:
            errors.append(f"bad CRC in frame at offset {start}: type {ftype}, header {crc:#010x}, "
                          f"payload {actual:#010x}")
            pos = _skip_bad_frame(data, start)
            continue
        frames.append(RawFrame(ftype, flags, payload, start))
        pos = body + length
    return frames, errors


def _skip_bad_frame(data: bytes, start: int) -> int:
    """Resynchronise after a reported bad frame: continue at the next magic (the bytes in
    between belong to the bad frame, already reported), or stop."""
    nxt = data.find(MAGIC, start + len(MAGIC))
    return nxt if nxt >= 0 else len(data)
