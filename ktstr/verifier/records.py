"""The shim's records, as the guest wrote them to COM2: one `KTSTR_VERIFIER {json}` line each.

Events: "begin" / "end" (the guest's script, around each scheduler, "end" with the loader's
exit status), "prog" (one BPF_PROG_LOAD: figures, or the rejection with the log's end),
"attach" (the loader reached its first struct_ops update: everything is loaded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from ktstr.errors import KtstrError

PREFIX = "KTSTR_VERIFIER "


class VerifierRecordError(KtstrError, ValueError):
    """A `KTSTR_VERIFIER` line that is not a record (the guest wrote it; it may be anything)."""


def _record(text: str) -> dict[str, Any]:
    try:
        rec = json.loads(text)
    except ValueError as exc:
        raise VerifierRecordError(f"unreadable verifier record ({exc}): {text[:200]}") from None
    if not isinstance(rec, dict):
        raise VerifierRecordError(f"verifier record is a JSON {type(rec).__name__}, not an object: {text[:200]}")
    return rec


def _int(rec: dict[str, Any], key: str, default: int) -> int:
    value = rec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise VerifierRecordError(f"verifier record's {key!r} is {value!r}, not an integer: {json.dumps(rec)[:200]}")
    return value

LIBBPF_PROBES = frozenset({"det_arg_ctx"})

# Figures of one program, as the kernel prints them (-1: not in the log).
FIGURES = ("insns", "total_states", "peak_states", "max_states_per_insn", "mark_read", "time_us",
           "verified_insns")


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
    errors: list[str] = field(default_factory=list)  # lines that did not parse


_INT_KEYS = ("prog_type", "errno", "insn_cnt", "insn_limit", "status", *FIGURES)


def _check_ints(rec: dict[str, Any]) -> None:
    """Every integer field checked before the record is used: a bad one drops the whole
    record (as an error), never half of it."""
    for key in _INT_KEYS:
        if key in rec:
            _int(rec, key, 0)


def parse_stream(data: bytes) -> Stream:
    out = Stream()
    current: Optional[SchedulerRecord] = None
    for raw in data.decode("utf-8", "replace").replace("\r", "\n").split("\n"):
        idx = raw.find(PREFIX)
        if idx < 0:
            continue
        text = raw[idx + len(PREFIX):].strip()
        try:
            rec = _record(text)
            _check_ints(rec)
        except VerifierRecordError as exc:
            out.errors.append(str(exc))
            continue
        name = str(rec.get("sched", ""))
        sched = out.schedulers.get(name) or current
        event = rec.get("event")
        if event == "begin":
            current = out.schedulers.setdefault(name, SchedulerRecord(name))
        elif sched is None:
            out.errors.append(f"verifier record outside any scheduler: {text[:200]}")
        elif event == "prog":
            sched.programs.append(ProgramRecord(
                name=str(rec.get("prog", "")), prog_type=_int(rec, "prog_type", -1),
                ok=bool(rec.get("ok")), errno=_int(rec, "errno", 0),
                figures={k: _int(rec, k, -1) for k in FIGURES},
                insn_cnt=_int(rec, "insn_cnt", 0), insn_limit=_int(rec, "insn_limit", -1),
                stack_depth=str(rec.get("stack_depth", "")), log_tail=str(rec.get("log_tail", ""))))
        elif event == "attach":
            sched.attached = True
        elif event == "end":
            sched.exit_status = _int(rec, "status", -1)
    return out
