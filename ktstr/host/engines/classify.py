"""Classify how a guest ended from its console: shared by every engine.

An engine only sees "the process exited" (QEMU with -no-reboot exits the same way for a
power-off, a reboot, a panic and a triple fault). The kernel's own last words tell them apart;
they are printed at KERN_EMERG, so `quiet` does not hide them.
"""

from __future__ import annotations

from ktstr.host.engines.base import ExitKind

POWER_OFF_MARK = b"reboot: Power down"
RESTART_MARK = b"reboot: Restarting system"
PANIC_MARK = b"Kernel panic - not syncing"


def classify_exit(console: bytes) -> tuple[ExitKind, str]:
    """(kind, explanation) for a guest whose engine exited on its own (not killed)."""
    if PANIC_MARK in console:
        line = _line_with(console, PANIC_MARK)
        return ExitKind.CRASH, f"kernel panic: {line}"
    if POWER_OFF_MARK in console:
        return ExitKind.POWEROFF, "guest powered off"
    if RESTART_MARK in console:
        return ExitKind.REBOOT, "guest rebooted (the agent powers off; a reboot means something else ended the run)"
    return ExitKind.CRASH, "guest reset with no power-off, reboot or panic message (triple fault or early boot failure)"


def _line_with(data: bytes, mark: bytes) -> str:
    start = data.rfind(mark)
    end = data.find(b"\n", start)
    return data[start : end if end >= 0 else len(data)].decode("utf-8", "replace").strip()
