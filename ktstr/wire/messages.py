"""The messages of the result stream as Python values, and their protobuf form.

The guest builds a GuestTestResult per test and sends `to_pb()`; the host folds the frames
of a boot back into a GuestRun with `decode(stream)`. Both sides use these types, so a new
field is added once here (and in ktstr.proto).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ktstr.wire import ktstr_pb2 as pb
from ktstr.wire.frames import HELLO, LOG, MESSAGE_NAMES, RUN_END, TEST_RESULT, TEST_START, RawFrame, split_frames
from ktstr.wire.status import Status


@dataclass(frozen=True)
class ClaimRecord:
    """One pointwise check: label (a field name or source expression), the value seen, the
    bound it was held to and whether it held."""

    label: str
    value: str
    bound: str
    passed: bool = False

    def text(self) -> str:
        return f"{self.label} = {self.value}, expected {self.bound}"

    def __str__(self) -> str:
        return self.text()


# A check the test switched off travels as a detail with this prefix (no new proto field):
# GuestTestResult.not_checked on both sides.
NOT_CHECKED_PREFIX = "not checked: "


@dataclass
class GuestTestResult:
    """What the guest agent said about one test function."""

    name: str
    status: Status
    reason: str = ""
    claims: list[ClaimRecord] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    scheduler_output: str = ""
    sched_ext_exit: str = ""  # marks.ScxExit.text() when sched_ext threw the scheduler out
    duration_s: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)
    sched_ext_dump: str = ""  # the kernel's debug dump of the ejected scheduler
    not_checked: list[str] = field(default_factory=list)  # "<check>: <why it is off>"

    def to_pb(self) -> Any:
        msg = pb.TestResult(name=self.name, status=self.status.to_pb(), reason=self.reason,
                            scheduler_output=self.scheduler_output, sched_ext_exit=self.sched_ext_exit,
                            duration_s=self.duration_s, sched_ext_dump=self.sched_ext_dump)
        msg.details.extend(self.details)
        msg.details.extend(NOT_CHECKED_PREFIX + n for n in self.not_checked)
        for c in self.claims:
            msg.claims.add(label=c.label, value=c.value, bound=c.bound, passed=c.passed)
        for k, v in self.stats.items():
            msg.stats[k] = float(v)
        return msg

    @classmethod
    def from_pb(cls, msg: Any) -> GuestTestResult:
        return cls(
            name=msg.name,
            status=Status.from_pb(msg.status),
            reason=msg.reason,
            claims=[ClaimRecord(c.label, c.value, c.bound, c.passed) for c in msg.claims],
            details=[d for d in msg.details if not d.startswith(NOT_CHECKED_PREFIX)],
            scheduler_output=msg.scheduler_output,
            sched_ext_exit=msg.sched_ext_exit,
            duration_s=msg.duration_s,
            stats={k: msg.stats[k] for k in sorted(msg.stats)},
            sched_ext_dump=msg.sched_ext_dump,
            not_checked=list(dict.fromkeys(d[len(NOT_CHECKED_PREFIX):] for d in msg.details
                                           if d.startswith(NOT_CHECKED_PREFIX))),
        )


@dataclass
class GuestRun:
    """Everything decoded from the result stream of one boot."""

    results: dict[str, GuestTestResult] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)  # tests the agent said it began
    stream_errors: list[str] = field(default_factory=list)  # corrupt/undecodable frames
    agent_error: str = ""  # agent-level failure (scheduler never attached, import error, ...)
    agent_log: list[str] = field(default_factory=list)
    finished: bool = False  # the agent sent its end-of-run frame
    topology: str = ""  # the shape the guest saw in sysfs (Hello), e.g. "1n2l2c1t"


def parse_payload(frame_type: int, payload: bytes) -> Any:
    """The protobuf message of a frame; an unknown type is an error, never skipped."""
    if frame_type not in MESSAGE_NAMES:
        raise KeyError(f"unknown frame type {frame_type}")
    return getattr(pb, MESSAGE_NAMES[frame_type]).FromString(payload)


def decode_frames(frames: list[RawFrame]) -> GuestRun:
    """Fold frames into a GuestRun; a frame that cannot be decoded becomes a stream error."""
    guest = GuestRun()
    for frame in frames:
        try:
            msg = parse_payload(frame.type, frame.payload)
            if frame.type == HELLO:
                guest.topology = msg.topology
                guest.agent_log.append(f"agent up: kernel {msg.kernel_release}, topology {msg.topology}")
            elif frame.type == LOG:
                guest.agent_log.append(msg.text)
            elif frame.type == TEST_START:
                guest.started.append(msg.name)
            elif frame.type == TEST_RESULT:
                result = GuestTestResult.from_pb(msg)
                if result.name in guest.results:
                    raise ValueError(f"second result for test {result.name!r}")
                guest.results[result.name] = result
            elif frame.type == RUN_END:
                guest.finished = True
                guest.agent_error = msg.agent_error
        except Exception as exc:  # noqa: BLE001 - every bad frame becomes evidence
            guest.stream_errors.append(f"undecodable frame at offset {frame.offset} (type {frame.type}): "
                                       f"{type(exc).__name__}: {exc}")
    return guest


def decode(stream: bytes) -> GuestRun:
    """The GuestRun of a boot's raw COM2 bytes, framing errors first."""
    frames, errors = split_frames(stream)
    guest = decode_frames(frames)
    guest.stream_errors = errors + guest.stream_errors
    return guest
