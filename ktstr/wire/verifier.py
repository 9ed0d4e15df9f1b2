"""A verifier cell's records: frames of type VERIFIER on the framed result stream (COM2).

A cell has no agent: its busybox /init (ktstr/verifier/cell.py) sends "begin" and "end"
around each scheduler's loader, and the LD_PRELOAD shim (schedulers/verifier/
ktstr_verifier_shim.c, its own small encoder of the same frame and message) sends "prog"
for each BPF_PROG_LOAD and "attach" where attaching begins. /init cannot compute a CRC, so
the host writes its frames into the cell's layer: one begin frame per scheduler and, for
the end, one frame per exit status 0..255, all of one size, out of which /init copies the
one for its `$?` (`dd bs=<size> skip=$st count=1`). No frame is signed: no process in a
cell holds a key, and the host believes the records as the console (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ktstr.wire import ktstr_pb2 as pb
from ktstr.wire.frames import VERIFIER, encode_frame, split_frames

# Figures of one program, as the kernel prints them (-1: not in the log).
FIGURES = ("insns", "total_states", "peak_states", "max_states_per_insn", "mark_read", "time_us",
           "verified_insns")
EVENTS = ("begin", "prog", "attach", "end")
END_STATUSES = 256  # what a shell's $? can be


@dataclass(frozen=True)
class VerifierRecord:
    FRAME: ClassVar[int] = VERIFIER
    event: str  # one of EVENTS
    sched: str
    prog: str = ""
    prog_type: int = -1
    attach_type: int = 0
    insn_cnt: int = 0
    ok: bool = False
    errno: int = 0
    figures: dict[str, int] = field(default_factory=lambda: {k: -1 for k in FIGURES})
    insn_limit: int = -1
    stack_depth: str = ""
    log_tail: str = ""
    status: int = 0  # end: the loader's exit status

    def to_pb(self) -> Any:
        msg = pb.VerifierRecord(event=self.event, sched=self.sched.encode(), prog=self.prog.encode(),
                                prog_type=self.prog_type, attach_type=self.attach_type, insn_cnt=self.insn_cnt,
                                ok=self.ok, errno=self.errno, insn_limit=self.insn_limit,
                                stack_depth=self.stack_depth.encode(), log_tail=self.log_tail.encode(),
                                **{k: self.figures.get(k, -1) for k in FIGURES})
        if self.event == "end":
            msg.status = self.status
        return msg

    @classmethod
    def from_pb(cls, msg: Any) -> VerifierRecord:
        def text(b: bytes) -> str:
            return b.decode("utf-8", "replace")

        return cls(event=msg.event, sched=text(msg.sched), prog=text(msg.prog), prog_type=msg.prog_type,
                   attach_type=msg.attach_type, insn_cnt=msg.insn_cnt, ok=msg.ok, errno=msg.errno,
                   figures={k: getattr(msg, k) for k in FIGURES}, insn_limit=msg.insn_limit,
                   stack_depth=text(msg.stack_depth), log_tail=text(msg.log_tail),
                   status=msg.status if msg.HasField("status") else -1)

    def frame(self) -> bytes:
        return encode_frame(VERIFIER, self.to_pb().SerializeToString())


def begin_frame(sched: str) -> bytes:
    return VerifierRecord("begin", sched).frame()


def end_frames(sched: str) -> tuple[bytes, int]:
    """The end frames of a scheduler for every exit status, back to back, and the size of one."""
    frames = [VerifierRecord("end", sched, status=s).frame() for s in range(END_STATUSES)]
    return b"".join(frames), len(frames[0])  # one size: status is an sfixed32, always present


def decode_records(stream: bytes) -> tuple[list[VerifierRecord], list[str]]:
    """The records of a cell's COM2 bytes, and an error for everything that is not one
    (framing errors, an undecodable payload, a frame of another type, an unknown event)."""
    frames, errors = split_frames(stream)
    records = []
    for f in frames:
        if f.type != VERIFIER:
            errors.append(f"frame of type {f.type} at offset {f.offset} in a verifier cell's stream "
                          f"(only verifier records belong there)")
            continue
        try:
            rec = VerifierRecord.from_pb(pb.VerifierRecord.FromString(f.payload))
        except Exception as exc:  # noqa: BLE001 - every bad frame becomes evidence
            errors.append(f"undecodable verifier record at offset {f.offset}: {type(exc).__name__}: {exc}")
            continue
        if rec.event not in EVENTS:
            errors.append(f"verifier record at offset {f.offset} with unknown event {rec.event[:40]!r}")
            continue
        records.append(rec)
    return records, errors
