"""The engine interface: what a boot is given (BootSpec), what it gives back (BootResult).

An engine is anything with a `name`, an `emulated` flag and `run(BootSpec) -> BootResult`
(the Engine protocol). A new engine: a module in this package that builds on boot_io.BootIO
(inputs, initrd, console follower, tails) and keeps only its own launch and exit mapping,
plus its name in select.py.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Protocol

from ktstr.host.console_scan import ConsoleScan
from ktstr.topology import Topology
from ktstr.wire.bounds import CONSOLE_TAIL_BYTES

# A BootResult keeps CONSOLE_TAIL_BYTES of the console in memory for showing; the whole
# console is judged as a stream while the guest runs (BootResult.console_scan), and its file
# on disk keeps a head and a rotating tail (ktstr.wire.bounds).
__all__ = ["CONSOLE_TAIL_BYTES", "BootObserver", "BootResult", "BootSpec", "Engine", "ExitKind"]


class ExitKind(str, enum.Enum):
    """How the guest ended, as far as the engine can tell."""

    POWEROFF = "poweroff"  # orderly power-off: the agent finished
    REBOOT = "reboot"  # guest asked to reboot (with reboot=t panic=-1 also after a panic)
    TIMEOUT = "timeout"  # still running at the deadline; the engine killed it
    CRASH = "crash"  # kernel panic / triple fault / engine saw the guest die
    ENGINE_ERROR = "engine_error"  # the engine itself failed (bad binary, bad args, ...)
    STOPPED = "stopped"  # the host stopped it on a verdict (the monitor saw a stall)


class BootObserver(Protocol):
    """Watches a running guest from the host (ktstr.monitor.boot.BootMonitor). An engine
    that can share guest RAM backs it with `ram_fds(sizes, below_4g)` (one fd per RAM
    backend, in guest order; how much RAM sits below 4 GiB), calls `vm_started(stop)` once
    the VM runs (`stop(reason)` ends it, from any thread) and `vm_stopped()` after it is
    gone; one that cannot calls `engine_cannot_share(reason)` instead and boots as usual."""

    def ram_fds(self, sizes: list[int], below_4g: Optional[int] = None) -> list[int]: ...

    def engine_cannot_share(self, reason: str) -> None: ...

    def vm_started(self, stop: Callable[[str], None]) -> None: ...

    def vm_stopped(self) -> None: ...


@dataclass(frozen=True)
class BootSpec:
    """One boot. New optional inputs go at the end with a default, so every engine and
    caller keeps working; an engine that cannot honour one says so in its result."""

    kernel: Path  # bzImage
    initrds: tuple[Path, ...]  # cpio archives, concatenated in this order
    cmdline: str
    topology: Topology
    memory_mib: int
    timeout_s: float
    console_path: Path  # COM1: kernel console, written while the guest runs
    result_path: Path  # COM2: raw framed result stream
    work_dir: Path  # scratch (concatenated initrd, ...)
    # Called with console bytes as they arrive (terminal streaming); None = quiet.
    on_console: Optional[Callable[[bytes], None]] = field(default=None, compare=False)
    # Host-side observer of guest memory (the monitor); None = none.
    observer: Optional[BootObserver] = field(default=None, compare=False)


@dataclass
class BootResult:
    exit_kind: ExitKind
    wall_s: float
    console_tail: bytes
    result_stream: bytes
    detail: str  # engine's own words: accel, fallback reason, exit status, kill reason
    engine: str  # e.g. "qemu-tcg"
    exit_reason: str = ""  # one short sentence: "killed after timeout of 30 s", "kernel panic: ..."
    # The whole console's findings with their offsets (None: not followed live; the
    # evaluator then scans console_tail).
    console_scan: Optional[ConsoleScan] = None
    # (result stream bytes seen, console offset before, console offset after) at each poll
    # that saw the stream grow: where each frame arrived in the console.
    stream_clock: list[tuple[int, int, int]] = field(default_factory=list)
    result_stream_elided: int = 0  # bytes past RESULT_STREAM_CAP, not read

    def console_tail_text(self, max_lines: int = 40) -> str:
        return console_lines(self.console_tail, max_lines)


def console_lines(data: bytes, max_lines: int = 40) -> str:
    """The last non-empty lines of console bytes, as text for a report."""
    text = _ANSI.sub("", data.decode("utf-8", "replace"))
    lines = [line.rstrip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    return "\n".join(lines[-max_lines:])


# Terminal control sequences (the firmware clears the screen on COM1) are noise in reports.
_ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|c)")


class Engine(Protocol):
    name: str

    @property
    def emulated(self) -> bool:
        """Does this engine emulate the CPU (QEMU TCG)? Timing checks then use looser limits."""
        ...

    def run(self, spec: BootSpec) -> BootResult: ...
