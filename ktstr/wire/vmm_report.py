"""The C VMM's exit report: how a ktstr_vm_run ended (struct ktstr_vm_report, vmm/include).

One type, VmmExitReport, whichever way it arrives: the in-process engine fills it from the
struct (ktstr/host/engines/vmm_binding.py), and the ktstr-vmm command prints it as
`key=value` lines (vmm/cli/main.c print_report), which the vmm-nested engine reads back
from L1's log with `from_text`. `to_text` writes the command's form, so the two are tested
against each other.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Optional


class VmExit(enum.IntEnum):
    """enum ktstr_exit_kind: how the VMM's run ended (engines.ExitKind is the guest's end)."""

    DEBUG_PORT = 1
    TIMEOUT = 2
    SHUTDOWN = 3
    INTERNAL_ERROR = 4
    SETUP_ERROR = 5
    STOPPED = 6  # ktstr_vm_stop: the host ended it


# The names ktstr-vmm prints (vmm/cli/main.c kind_name).
EXIT_NAMES = {VmExit.DEBUG_PORT: "debug_exit", VmExit.TIMEOUT: "timeout", VmExit.SHUTDOWN: "shutdown",
              VmExit.INTERNAL_ERROR: "internal_error", VmExit.SETUP_ERROR: "setup_error",
              VmExit.STOPPED: "stopped"}
_BY_NAME = {name: kind for kind, name in EXIT_NAMES.items()}
_LINE = re.compile(r"^[a-z_.0-9]+=")


@dataclass(frozen=True)
class VmmExitReport:
    kind: Optional[VmExit]  # None: no report (ktstr-vmm never got to print one)
    exit_status: int = 0
    rip: int = 0
    insn: bytes = b""
    vcpus: int = 0
    setup_ns: int = 0
    run_ns: int = 0
    message: str = ""
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def kind_name(self) -> str:
        return EXIT_NAMES[self.kind] if self.kind is not None else ""

    def describe(self) -> str:
        parts = [self.kind_name or "no exit report"]
        if self.message:
            parts.append(self.message)
        if self.rip:
            parts.append(f"rip={self.rip:#x}")
        if self.insn:
            parts.append(f"insn={self.insn.hex()}")
        return "; ".join(parts)

    def lines(self, with_stats: bool = True) -> list[str]:
        """ktstr-vmm's lines, in its order (vmm/cli/main.c print_report); none without a report."""
        if self.kind is None:
            return []
        out = [f"exit={self.kind_name}", f"status={self.exit_status}", f"vcpus={self.vcpus}",
               f"setup_us={self.setup_ns // 1000}", f"run_us={self.run_ns // 1000}", f"rip={self.rip:#x}"]
        if self.insn:
            out.append(f"insn={self.insn.hex()}")
        if with_stats:
            out += [f"stat.{k}={v}" for k, v in self.stats.items()]
        return out + [f"message={self.message}"]

    def to_text(self) -> str:
        return "".join(line + "\n" for line in self.lines())

    @classmethod
    def from_text(cls, log: str) -> VmmExitReport:
        """The last report ktstr-vmm printed in `log` (other lines around it are skipped);
        VmmExitReport(None) when there is none."""
        lines = [line.strip() for line in log.replace("\r", "").splitlines()]
        starts = [i for i, line in enumerate(lines) if line.startswith("exit=")]
        if not starts:
            return cls(None)
        fields: dict[str, str] = {}
        stats: dict[str, int] = {}
        for line in lines[starts[-1]:]:
            if not _LINE.match(line):
                break
            key, _, value = line.partition("=")
            if key.startswith("stat."):
                stats[key[len("stat."):]] = _int(value)
            else:
                fields[key] = value
        return cls(kind=_BY_NAME.get(fields.get("exit", "")), exit_status=_int(fields.get("status", "0")),
                   rip=_int(fields.get("rip", "0")), insn=_hex(fields.get("insn", "")),
                   vcpus=_int(fields.get("vcpus", "0")), setup_ns=_int(fields.get("setup_us", "0")) * 1000,
                   run_ns=_int(fields.get("run_us", "0")) * 1000, message=fields.get("message", ""), stats=stats)


def _int(text: str) -> int:
    """A number as ktstr-vmm prints it (decimal, or 0x hex); -1 for what is not one (the log
    is L1's serial line: a garbled digit must not cost the whole report)."""
    try:
        return int(text, 0)
    except ValueError:
        return -1


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""
