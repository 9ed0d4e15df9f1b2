"""Frames of the result stream (ARCHITECTURE.md, "Wire frames").

    magic b"KTS1" | type u16 | flags u16 | length u32 | crc32(payload) u32 | payload

Little endian. The guest writes frames with FrameWriter; the host reads them with
ktstr.host.result_stream, which resynchronises on the magic and reports every bad frame.
"""

from __future__ import annotations

import os
import struct
import zlib

MAGIC = b"KTS1"
HEADER = struct.Struct("<4sHHII")
MAX_PAYLOAD = 16 * 1024 * 1024

HELLO, LOG, TEST_START, TEST_RESULT, RUN_END = 1, 2, 3, 4, 5


def encode_frame(frame_type: int, payload: bytes, flags: int = 0) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"frame payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return HEADER.pack(MAGIC, frame_type, flags, len(payload), zlib.crc32(payload)) + payload


class FrameWriter:
    """Writes whole frames to a file descriptor (the raw COM2 tty in the guest)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, frame_type: int, message) -> None:
        data = encode_frame(frame_type, message.SerializeToString())
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
