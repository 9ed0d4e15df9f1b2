"""Turn the raw COM2 byte stream into a GuestRun (results per test + stream errors).

Framing per docs/ARCHITECTURE.md: magic b"KTS1" | type u16 | flags u16 | length u32 |
crc32(payload) u32 | payload. Garbage, bad CRCs, truncated and oversized frames each become
an error entry (the evaluation turns them into evidence); nothing is silently skipped.
Payloads are protobuf messages of ktstr/wire/ktstr.proto, decoded by
ktstr.host.guest_messages.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from ktstr.wire.framing import HEADER, MAGIC, MAX_PAYLOAD  # one definition, shared with the guest


@dataclass(frozen=True)
class RawFrame:
    type: int
    flags: int
    payload: bytes
    offset: int


def split_frames(data: bytes) -> tuple[list[RawFrame], list[str]]:
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
            errors.append(f"truncated frame at offset {start}: type {ftype}, {len(data) - body} of {length} payload bytes")
            # The guest may have died mid-write; a later magic could still be a whole frame.
            pos = _skip_bad_frame(data, start)
            continue
        payload = data[body : body + length]
        actual = zlib.crc32(payload) & 0xFFFFFFFF
        if actual != crc:
            errors.append(f"bad CRC in frame at offset {start}: type {ftype}, header {crc:#010x}, payload {actual:#010x}")
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


def encode_frame(ftype: int, payload: bytes, flags: int = 0) -> bytes:
    """The inverse, for tests and tools that feed the host reader."""
    return HEADER.pack(MAGIC, ftype, flags, len(payload), zlib.crc32(payload) & 0xFFFFFFFF) + payload
