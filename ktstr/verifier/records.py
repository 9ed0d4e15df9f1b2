"""A cell's records folded per scheduler: what its loader loaded, whether it reached the
attach, how it ended. The records are frames on COM2 (ktstr/wire/verifier.py): "begin" /
"end" (the cell's /init, around each scheduler, "end" with the loader's exit status),
"prog" (one BPF_PROG_LOAD: figures, or the rejection with the log's end), "attach" (the
loader reached its first struct_ops update: everything is loaded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ktstr.wire.verifier import VerifierRecord, decode_records

LIBBPF_PROBES = frozenset({"det_arg_ctx"})


@dataclass
class ProgramRecord:
    name: str
    prog_type: int
    ok: bool
    errno: int
    figures: dict[str, int]
    insn_cnt: int = 0
    insn_limit: int = -1
    stack_depth: str = ""
    log_tail: str = ""

    @property
    def probe(self) -> bool:
        """libbpf's feature probes (tools/lib/bpf/features.c: unnamed, "libbpf_nametest",
        "det_arg_ctx"): not the scheduler's programs."""
        return not self.name or self.name.startswith("libbpf_") or self.name in LIBBPF_PROBES


@dataclass
class SchedulerRecord:
    name: str
    programs: list[ProgramRecord] = field(default_factory=list)
    attached: bool = False  # reached the struct_ops update: every program was loaded
    exit_status: Optional[int] = None  # None: the guest never said the loader ended

    @property
    def own_programs(self) -> list[ProgramRecord]:
        return [p for p in self.programs if not p.probe]


@dataclass
class Stream:
    schedulers: dict[str, SchedulerRecord] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # what was not a record, named


def parse_stream(data: bytes) -> Stream:
    records, errors = decode_records(data)
    out = Stream(errors=errors)
    current: Optional[SchedulerRecord] = None
    for rec in records:
        sched = out.schedulers.get(rec.sched) or current
        if rec.event == "begin":
            current = out.schedulers.setdefault(rec.sched, SchedulerRecord(rec.sched))
        elif sched is None:
            out.errors.append(f"verifier record outside any scheduler: {rec.event} of {rec.sched[:200]!r}")
        elif rec.event == "prog":
            sched.programs.append(_program(rec))
        elif rec.event == "attach":
            sched.attached = True
        elif rec.event == "end":
            sched.exit_status = rec.status
    return out


def _program(rec: VerifierRecord) -> ProgramRecord:
    return ProgramRecord(name=rec.prog, prog_type=rec.prog_type, ok=rec.ok, errno=rec.errno,
                         figures=dict(rec.figures), insn_cnt=rec.insn_cnt, insn_limit=rec.insn_limit,
                         stack_depth=rec.stack_depth, log_tail=rec.log_tail)
