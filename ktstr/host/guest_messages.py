"""Decode result-stream frames (protobuf payloads, ktstr/wire/ktstr.proto) into a GuestRun.

The host reads only what it needs from each message, by field name, so additions to the
schema do not break it. Frame types (u16 in the frame header):
  1 Hello(kernel_release, topology)      agent is up
  2 Log(text)                            agent log line (kept as evidence)
  3 TestStart(name)                      a test began (tells "hung while running" apart)
  4 TestResult(name, status, reason, claims[label,value,bound,passed], details,
               scheduler_output, sched_ext_exit, duration_s, stats, sched_ext_dump)
  5 RunEnd(agent_error)                  the agent is done; powers off next
An unknown type or an undecodable payload is a stream error, never ignored.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from ktstr.host.evaluate import GuestRun
from ktstr.host.result_stream import RawFrame
from ktstr.host.verdict import Claim, GuestTestResult, Verdict

from ktstr.wire.framing import HELLO, LOG, RUN_END, TEST_RESULT, TEST_START  # noqa: E402

_STATUS = {
    "PASS": Verdict.PASS, "PASSED": Verdict.PASS,
    "FAIL": Verdict.FAIL, "FAILED": Verdict.FAIL,
    "SKIP": Verdict.SKIP, "SKIPPED": Verdict.SKIP,
    "INCONCLUSIVE": Verdict.INCONCLUSIVE,
}


def _pb():
    from ktstr.wire import ktstr_pb2  # generated from ktstr/wire/ktstr.proto

    return ktstr_pb2


def _message_class(ftype: int):
    names = {HELLO: "Hello", LOG: "Log", TEST_START: "TestStart", TEST_RESULT: "TestResult", RUN_END: "RunEnd"}
    if ftype not in names:
        raise KeyError(f"unknown frame type {ftype}")
    return getattr(_pb(), names[ftype])


def _status(msg: Any) -> Verdict:
    raw = getattr(msg, "status", 0)
    if isinstance(raw, int):
        enum = msg.DESCRIPTOR.fields_by_name["status"].enum_type
        raw = enum.values_by_number[raw].name if enum is not None and raw in enum.values_by_number else str(raw)
    key = str(raw).upper().removeprefix("STATUS_")
    if key not in _STATUS:
        raise ValueError(f"unknown test status {raw!r}")
    return _STATUS[key]


def _stats(msg: Any) -> dict[str, Any]:
    stats = getattr(msg, "stats", None)
    if stats is None:
        return {}
    if isinstance(stats, str):
        return json.loads(stats) if stats else {}
    try:
        return {k: stats[k] for k in sorted(stats)}
    except TypeError:
        from google.protobuf.json_format import MessageToDict

        return MessageToDict(stats)


def test_result_from_message(msg: Any) -> GuestTestResult:
    return GuestTestResult(
        name=msg.name,
        status=_status(msg),
        reason=getattr(msg, "reason", ""),
        claims=[Claim(c.label, str(c.value), str(c.bound), bool(getattr(c, "passed", False)))
                for c in getattr(msg, "claims", [])],
        details=list(getattr(msg, "details", [])),
        scheduler_output=getattr(msg, "scheduler_output", ""),
        sched_ext_exit=getattr(msg, "sched_ext_exit", ""),
        duration_s=float(getattr(msg, "duration_s", 0.0)),
        stats=_stats(msg),
        sched_ext_dump=getattr(msg, "sched_ext_dump", ""),
    )


def to_guest_run(frames: Iterable[RawFrame], parse: Callable[[int, bytes], Any] | None = None) -> GuestRun:
    """Fold decoded frames into a GuestRun. `parse(type, payload)` -> message (defaults to
    the protobuf classes); any failure to parse becomes a stream error."""
    guest = GuestRun()
    parse = parse or (lambda t, p: _message_class(t).FromString(p))
    for frame in frames:
        try:
            msg = parse(frame.type, frame.payload)
            if frame.type == HELLO:
                guest.topology = getattr(msg, "topology", "")
                guest.agent_log.append(f"agent up: kernel {getattr(msg, 'kernel_release', '?')}, "
                                       f"topology {getattr(msg, 'topology', '?')}")
            elif frame.type == LOG:
                guest.agent_log.append(msg.text)
            elif frame.type == TEST_START:
                guest.started.append(msg.name)
            elif frame.type == TEST_RESULT:
                result = test_result_from_message(msg)
                if result.name in guest.results:
                    raise ValueError(f"second result for test {result.name!r}")
                guest.results[result.name] = result
            elif frame.type == RUN_END:
                guest.finished = True
                guest.agent_error = getattr(msg, "agent_error", "")
        except Exception as exc:  # noqa: BLE001 - every bad frame becomes evidence
            guest.stream_errors.append(f"undecodable frame at offset {frame.offset} (type {frame.type}): "
                                       f"{type(exc).__name__}: {exc}")
    return guest
