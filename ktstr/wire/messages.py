"""The messages of the result stream as Python values, and their protobuf form.

One type per frame type (MESSAGES): Hello, Log, TestStart, GuestTestResult and RunEnd, each
with its FRAME, `to_pb` (the guest's FrameWriter.send) and `from_pb` (the host). The host
folds the frames of a boot back into a GuestRun with `decode(stream)`. Both sides use these
types, so a new field is added once here (and in ktstr.proto).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

from ktstr.errors import KtstrError
from ktstr.wire import ktstr_pb2 as pb
from ktstr.wire.bounds import MAX_LOGS, MAX_TESTS, Tally, clip
from ktstr.wire.frames import HELLO, LOG, MESSAGE_NAMES, RUN_END, TEST_RESULT, TEST_START, RawFrame, split_frames
from ktstr.wire.status import Status
from ktstr.wire.verifier import VerifierRecord


class UnknownFrameError(KtstrError, KeyError):
    """A frame type this host does not know: an error, never skipped."""


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


@dataclass(frozen=True)
class Hello:
    """The agent is up: the kernel and the shape the guest sees in sysfs."""

    FRAME: ClassVar[int] = HELLO
    kernel_release: str
    topology: str = ""  # e.g. "1n2l2c1t"
    cpus: int = 0
    uptime_s: float = 0.0

    def to_pb(self) -> Any:
        return pb.Hello(kernel_release=self.kernel_release, topology=self.topology, cpus=self.cpus,
                        uptime_s=self.uptime_s)

    @classmethod
    def from_pb(cls, msg: Any) -> Hello:
        return cls(msg.kernel_release, msg.topology, msg.cpus, msg.uptime_s)


@dataclass(frozen=True)
class Log:
    """An agent log line (kept by the host as evidence)."""

    FRAME: ClassVar[int] = LOG
    text: str

    def to_pb(self) -> Any:
        return pb.Log(text=self.text)

    @classmethod
    def from_pb(cls, msg: Any) -> Log:
        return cls(msg.text)


@dataclass(frozen=True)
class TestStart:
    """A test began (a hang after this names the test that hung)."""

    __test__ = False  # not a pytest class
    FRAME: ClassVar[int] = TEST_START
    name: str

    def to_pb(self) -> Any:
        return pb.TestStart(name=self.name)

    @classmethod
    def from_pb(cls, msg: Any) -> TestStart:
        return cls(msg.name)


@dataclass(frozen=True)
class RunEnd:
    """The agent is done and powers off next."""

    FRAME: ClassVar[int] = RUN_END
    agent_error: str = ""  # empty when the agent itself was fine

    def to_pb(self) -> Any:
        return pb.RunEnd(agent_error=self.agent_error)

    @classmethod
    def from_pb(cls, msg: Any) -> RunEnd:
        return cls(msg.agent_error)


@dataclass
class GuestTestResult:
    """What the guest agent said about one test function."""

    FRAME: ClassVar[int] = TEST_RESULT
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
    # Where in the result stream (the byte after the frame) each test's TestStart and
    # TestResult ended: the host maps them to console offsets (BootResult.stream_clock).
    start_at: dict[str, int] = field(default_factory=dict)
    result_at: dict[str, int] = field(default_factory=dict)
    # Breaches of the protocol (a result before its start, two results for a test, frames
    # after RunEnd, ...): each fails the run, with its text as the reason.
    protocol_errors: list[str] = field(default_factory=list)


WireMessage = Union[Hello, Log, TestStart, GuestTestResult, RunEnd, VerifierRecord]
# Frame type -> its type (frames.MESSAGE_NAMES names its protobuf message). VerifierRecord
# (ktstr/wire/verifier.py) is a verifier cell's, never the agent's.
MESSAGES: dict[int, type[WireMessage]] = {
    m.FRAME: m for m in (Hello, Log, TestStart, GuestTestResult, RunEnd, VerifierRecord)}


def parse_payload(frame_type: int, payload: bytes) -> WireMessage:
    """The message of a frame; an unknown type is an error, never skipped."""
    if frame_type not in MESSAGES:
        raise UnknownFrameError(f"unknown frame type {frame_type}")
    return MESSAGES[frame_type].from_pb(getattr(pb, MESSAGE_NAMES[frame_type]).FromString(payload))


# Bounds of a decoded stream (MAX_LOGS, MAX_TESTS): ktstr.wire.bounds.


def decode_frames(frames: list[RawFrame], authenticated: bool = False) -> GuestRun:
    """Fold frames into a GuestRun; a frame that cannot be decoded becomes a stream error,
    one out of order a protocol error. `authenticated` (the frames were checked against
    the boot's key): a frame with a bad MAC is not the agent's and is not believed, and the
    agent's frames must come numbered 0, 1, 2, ... (a gap is a lost or withheld frame)."""
    guest = GuestRun()
    errors, protocol = Tally(), Tally()
    logs_elided = 0
    next_seq = 0
    for frame in frames:
        if frame.mac_ok is False:
            protocol.add(f"frame with a bad MAC at offset {frame.offset} (type {frame.type}): not written by "
                         f"the agent (forged by a guest process)", "bad MAC")
            continue
        if authenticated:
            if frame.seq != next_seq:
                protocol.add(f"sequence gap: frame {frame.seq} where {next_seq} was due "
                             f"(frames lost, withheld or replayed)", "sequence")
            next_seq = frame.seq + 1
        try:
            msg = parse_payload(frame.type, frame.payload)
        except Exception as exc:  # noqa: BLE001 - every bad frame becomes evidence
            errors.add(f"undecodable frame at offset {frame.offset} (type {frame.type}): "
                       f"{type(exc).__name__}: {exc}", f"undecodable {frame.type}")
            continue
        if guest.finished:
            protocol.add(f"a {MESSAGE_NAMES[frame.type]} frame after RunEnd", "after RunEnd")
            continue
        if isinstance(msg, Hello):
            guest.topology = msg.topology
            guest.agent_log.append(f"agent up: kernel {msg.kernel_release}, topology {msg.topology}")
        elif isinstance(msg, Log):
            if len(guest.agent_log) < MAX_LOGS:
                guest.agent_log.append(clip(msg.text, 2000))
            else:
                logs_elided += 1
        elif isinstance(msg, TestStart):
            _start(guest, msg.name, frame, protocol)
        elif isinstance(msg, GuestTestResult):
            _result(guest, msg, frame, protocol)
        elif isinstance(msg, VerifierRecord):
            protocol.add(f"a verifier cell's record at offset {frame.offset} in the agent's stream", "verifier record")
        else:
            guest.finished = True
            guest.agent_error = clip(msg.agent_error, 8000)
    if logs_elided:
        guest.agent_log.append(f"{logs_elided} more log frame(s) elided")
    guest.stream_errors = errors.lines()
    guest.protocol_errors = protocol.lines()
    return guest


def _start(guest: GuestRun, name: str, frame: RawFrame, protocol: Tally) -> None:
    if name in guest.start_at:
        protocol.add(f"test {clip(name, 200)!r} started twice", "started twice")
    elif len(guest.start_at) >= MAX_TESTS:
        protocol.add(f"more than {MAX_TESTS} tests started", "too many tests")
    else:
        guest.started.append(name)
        guest.start_at[name] = frame.end


def _result(guest: GuestRun, result: GuestTestResult, frame: RawFrame, protocol: Tally) -> None:
    name = result.name
    if name not in guest.start_at:
        protocol.add(f"result for test {clip(name, 200)!r} before its TestStart", "result before start")
        return
    first = guest.results.get(name)
    if first is not None:
        # Neither is believed over the other: the run fails, and the worse one is shown.
        protocol.add(f"two results for test {clip(name, 200)!r} ({first.status.value}, then "
                     f"{result.status.value})", f"two results {name}")
        if first.status.worst(result.status) == first.status:
            return
    guest.results[name] = result
    guest.result_at[name] = frame.end


def decode(stream: bytes, elided: int = 0, key: bytes = b"") -> GuestRun:
    """The GuestRun of a boot's raw COM2 bytes (`elided`: bytes past the host's cap, not
    read; `key`: the boot's result key, checked on every frame), framing errors first."""
    frames, errors = split_frames(stream, key)
    guest = decode_frames(frames, authenticated=bool(key))
    if elided:
        errors.append(f"{elided} byte(s) of the result stream past the host's cap of {len(stream)} not read")
    guest.stream_errors = errors + guest.stream_errors
    return guest
