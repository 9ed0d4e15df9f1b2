"""Frames of the result stream (guest -> host over COM2).

    magic b"KTS2" | type u16 | flags u16 | seq u32 | length u32 | crc32(payload) u32 |
    mac 32 bytes | payload

Little endian. `seq` counts the agent's frames from 0; `mac` is HMAC-SHA256 under the
boot's key (RunConfig.result_key, which the agent reads and removes before it starts
anything) over magic, type, flags, seq, length and payload. The CRC tells a line error from
a forgery: a frame with a good CRC and a bad MAC was written by something that does not
hold the key (a test, a worker, a scheduler's loader), not garbled on the way. The guest
writes frames with FrameWriter; the host reads them with split_frames, which
resynchronises on the magic and reports every bad frame (garbage, bad CRC, truncated,
oversized) as an error, never silently, and marks each whole frame's MAC good or bad. The
payload of each frame type is the protobuf message named in MESSAGE_NAMES (ktstr.proto).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import struct
import zlib
from dataclasses import dataclass
from typing import ClassVar, Optional, Protocol

from ktstr.errors import KtstrError
from ktstr.wire.bounds import MAX_FRAMES, Tally


class ChannelError(KtstrError, OSError):
    """A process without the result channel tried to send a frame (only the agent writes them)."""


class FrameError(KtstrError, ValueError):
    """A frame that cannot be written (its payload exceeds MAX_PAYLOAD)."""


MAGIC = b"KTS2"
HEADER = struct.Struct("<4sHHIII32s")
AUTHENTICATED = struct.Struct("<4sHHII")  # what the MAC covers before the payload
MAC_BYTES = 32
KEY_BYTES = 32
MAX_PAYLOAD = 4 * 1024 * 1024

HELLO, LOG, TEST_START, TEST_RESULT, RUN_END, VERIFIER = 1, 2, 3, 4, 5, 6

# Frame type -> the ktstr.proto message its payload holds. A new frame type: a constant
# above, a message in ktstr.proto, a line here, its type in messages.py (MESSAGES) and its
# fold in messages.decode_frames.
MESSAGE_NAMES = {HELLO: "Hello", LOG: "Log", TEST_START: "TestStart", TEST_RESULT: "TestResult",
                 RUN_END: "RunEnd", VERIFIER: "VerifierRecord"}


class Message(Protocol):
    def SerializeToString(self) -> bytes: ...


class Outgoing(Protocol):
    """A message of ktstr.wire.messages (Hello, Log, TestStart, GuestTestResult, RunEnd):
    its frame type and its protobuf form."""

    FRAME: ClassVar[int]

    def to_pb(self) -> Message: ...


def frame_mac(key: bytes, frame_type: int, flags: int, seq: int, payload: bytes) -> bytes:
    """The MAC of a frame; all zeros without a key (a stream nobody checks)."""
    if not key:
        return bytes(MAC_BYTES)
    head = AUTHENTICATED.pack(MAGIC, frame_type, flags, seq, len(payload))
    return hmac.new(key, head + payload, hashlib.sha256).digest()


def encode_frame(frame_type: int, payload: bytes, flags: int = 0, seq: int = 0, key: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise FrameError(f"frame payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    mac = frame_mac(key, frame_type, flags, seq, payload)
    return HEADER.pack(MAGIC, frame_type, flags, seq, len(payload), zlib.crc32(payload), mac) + payload


class FrameWriter:
    """Writes whole frames to a file descriptor (the raw COM2 tty in the guest), numbered
    and signed with the boot's key. Only the agent holds one: a process that must not
    write frames (a test process after fork) calls forget()."""

    def __init__(self, fd: int, key: bytes = b"") -> None:
        self.fd = fd
        self.key = key
        self.seq = 0

    def forget(self) -> None:
        self.key = b""
        self.fd = -1

    def send(self, message: Outgoing) -> None:
        if self.fd < 0:
            raise ChannelError("this process does not hold the result channel (only the agent writes frames)")
        data = encode_frame(message.FRAME, message.to_pb().SerializeToString(), seq=self.seq, key=self.key)
        self.seq += 1
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
    seq: int = 0
    mac_ok: Optional[bool] = None  # None: no key to check against

    @property
    def end(self) -> int:
        """The stream offset just past this frame."""
        return self.offset + HEADER.size + len(self.payload)


def split_frames(data: bytes, key: bytes = b"") -> tuple[list[RawFrame], list[str]]:
    """The whole frames in `data` (at most MAX_FRAMES), and the errors for everything that
    was not one, folded by kind with counts (ktstr.wire.bounds.Tally)."""
    frames: list[RawFrame] = []
    errors = _KindTally()
    pos = 0
    while pos < len(data):
        if len(frames) >= MAX_FRAMES:
            errors.append(f"frames past the first {MAX_FRAMES} not read ({len(data) - pos} byte(s) elided)")
            break
        start = data.find(MAGIC, pos)
        if start < 0:
            errors.append(f"{len(data) - pos} byte(s) of garbage at offset {pos} (no frame magic)")
            break
        if start > pos:
            errors.append(f"{start - pos} byte(s) of garbage at offset {pos} before a frame")
        if len(data) - start < HEADER.size:
            errors.append(f"truncated frame header at offset {start} ({len(data) - start} of {HEADER.size} bytes)")
            break
        _, ftype, flags, seq, length, crc, mac = HEADER.unpack_from(data, start)
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
        mac_ok = hmac.compare_digest(mac, frame_mac(key, ftype, flags, seq, payload)) if key else None
        frames.append(RawFrame(ftype, flags, payload, start, seq, mac_ok))
        pos = body + length
    return frames, errors.tally.lines()


class _KindTally:
    """Frame errors folded by their kind: the text with its numbers (offsets, sizes, CRCs) blanked."""

    def __init__(self) -> None:
        self.tally = Tally()

    def append(self, text: str) -> None:
        self.tally.add(text, re.sub(r"0x[0-9a-f]+|\d+", "N", text))


def _skip_bad_frame(data: bytes, start: int) -> int:
    """Resynchronise after a reported bad frame: continue at the next magic (the bytes in
    between belong to the bad frame, already reported), or stop."""
    nxt = data.find(MAGIC, start + len(MAGIC))
    return nxt if nxt >= 0 else len(data)
