"""Engines boot a kernel + initramfs with a CPU topology and hand back what happened.

One interface for every way of running a guest (QEMU with KVM, QEMU with TCG, the C VMM):
`Engine.run(BootSpec) -> BootResult`. The runner never cares which engine ran.

Selection: `select_engine(name)` with name from the caller (Bazel attribute, CLI flag) or
`$KTSTR_ENGINE`. `auto`: where KVM can boot Linux, the project's C VMM (`vmm`) when its
library is at hand, with QEMU+KVM for a boot the VMM could not bring up (fallback.py), else
QEMU+KVM; where it cannot (kvm-pvm, no /dev/kvm), QEMU+TCG. Either choice is said once per
process, with how to override it. `qemu` = QEMU with KVM or TCG.
"""

from __future__ import annotations

import enum
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Protocol

ENGINE_ENV = "KTSTR_ENGINE"
ENGINE_NAMES = ("auto", "qemu", "qemu-kvm", "qemu-tcg", "vmm")

# How much of the console a BootResult keeps in memory; the whole log stays on disk.
CONSOLE_TAIL_BYTES = 256 * 1024


class ExitKind(str, enum.Enum):
    """How the guest ended, as far as the engine can tell."""

    POWEROFF = "poweroff"  # orderly power-off: the agent finished
    REBOOT = "reboot"  # guest asked to reboot (with reboot=t panic=-1 also after a panic)
    TIMEOUT = "timeout"  # still running at the deadline; the engine killed it
    CRASH = "crash"  # kernel panic / triple fault / engine saw the guest die
    ENGINE_ERROR = "engine_error"  # the engine itself failed (bad binary, bad args, ...)


class TopologyLike(Protocol):
    """The fields of ktstr.topology.Topology an engine needs."""

    numa_nodes: int
    llcs: int
    cores_per_llc: int
    threads_per_core: int


@dataclass(frozen=True)
class BootSpec:
    kernel: Path  # bzImage
    initrds: tuple[Path, ...]  # cpio archives, concatenated in this order
    cmdline: str
    topology: TopologyLike
    memory_mib: int
    timeout_s: float
    console_path: Path  # COM1: kernel console, written while the guest runs
    result_path: Path  # COM2: raw framed result stream
    work_dir: Path  # scratch (concatenated initrd, ...)
    # Called with console bytes as they arrive (terminal streaming); None = quiet.
    on_console: Optional[Callable[[bytes], None]] = field(default=None, compare=False)


@dataclass
class BootResult:
    exit_kind: ExitKind
    wall_s: float
    console_tail: bytes
    result_stream: bytes
    detail: str  # engine's own words: accel, fallback reason, exit status, kill reason
    engine: str  # e.g. "qemu-tcg"
    exit_reason: str = ""  # one short sentence: "killed after timeout of 30 s", "kernel panic: ..."

    def console_tail_text(self, max_lines: int = 40) -> str:
        text = _ANSI.sub("", self.console_tail.decode("utf-8", "replace"))
        lines = [l.rstrip() for l in text.replace("\r", "\n").split("\n") if l.strip()]
        return "\n".join(lines[-max_lines:])


# Terminal control sequences (the firmware clears the screen on COM1) are noise in reports.
_ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|c)")


class Engine(Protocol):
    name: str

    def run(self, spec: BootSpec) -> BootResult: ...


class EngineSelectionError(ValueError):
    pass


def requested_engine(explicit: Optional[str] = None) -> str:
    """The engine name asked for: explicit argument, else $KTSTR_ENGINE, else auto."""
    name = (explicit or os.environ.get(ENGINE_ENV) or "auto").strip()
    if name not in ENGINE_NAMES:
        raise EngineSelectionError(
            f"unknown engine {name!r} (from {'argument' if explicit else ENGINE_ENV}); "
            f"choose one of: {', '.join(ENGINE_NAMES)}"
        )
    return name


_fallback_said = False


def _say_once(message: str) -> None:
    global _fallback_said
    if not _fallback_said:
        _fallback_said = True
        print(f"ktstr: {message}", file=sys.stderr)


def select_engine(explicit: Optional[str] = None) -> Engine:
    """Resolve a name (or $KTSTR_ENGINE, or auto) into a ready engine."""
    from ktstr.host.engines import kvm
    from ktstr.host.engines.qemu import QemuEngine

    name = requested_engine(explicit)
    if name == "vmm":
        from ktstr.host.engines.vmm import VmmEngine, VmmError

        try:
            return VmmEngine()
        except VmmError as exc:
            raise EngineSelectionError(
                f"engine 'vmm' is not available: {exc}; in Bazel choose it with "
                f"--//rules:engine=vmm (that adds the library to the test), or use qemu/auto"
            ) from exc
    if name == "qemu-tcg":
        return QemuEngine(accel="tcg")
    verdict = kvm.probe()
    if name == "qemu-kvm":
        if not verdict.can_boot_linux:
            raise EngineSelectionError(
                f"engine 'qemu-kvm' requested but KVM cannot boot Linux here: {verdict.reason}; "
                f"use {ENGINE_ENV}=qemu-tcg or auto"
            )
        return QemuEngine(accel="kvm")
    if verdict.can_boot_linux and name == "auto":
        from ktstr.host.engines.fallback import FallbackEngine
        from ktstr.host.engines.vmm import VmmEngine, VmmError

        try:
            engine = VmmEngine()
            _say_once(f"KVM can boot Linux here; using the C VMM, QEMU+KVM where it cannot bring "
                      f"the guest up ({ENGINE_ENV}=qemu-kvm for QEMU only, =vmm for the VMM only)")
            return FallbackEngine(engine, QemuEngine(accel="kvm"))
        except VmmError as exc:
            _say_once(f"the C VMM is not available ({exc}); using QEMU with KVM")
    # auto / qemu: KVM if it can boot Linux, TCG otherwise (said once per process).
    if verdict.can_boot_linux:
        return QemuEngine(accel="kvm")
    _say_once(f"KVM cannot boot a Linux guest here ({verdict.reason}); using QEMU TCG (slower)")
    return QemuEngine(accel="tcg", fallback_reason=verdict.reason)
