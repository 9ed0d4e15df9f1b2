"""Console (COM1) lines that both sides read: the agent's test marks and sched_ext's exits.

The result stream (COM2) says what each test reported; the console holds what the kernel
said. A mark written to /dev/kmsg as a test begins lands in the kernel log in order with the
kernel's own lines, so the host can tell which test a splat or a sched_ext exit happened
under (ktstr.host.console_scan.split_by_test). sched_ext's "disabled" line is parsed here
once, for the guest (from /dev/kmsg) and the host (from the console), into one text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

TEST_MARK = "ktstr: test {name} begins"

# Exec mode (`ktstr shell --exec CMD`): the command's output stands on the console between
# these lines; the host's display shows only that part. Display only: the command's exit
# status and verdict come from its signed result frame, never from this text.
EXEC_BEGIN = "ktstr-exec: begin"
EXEC_END = "ktstr-exec: end"

# Optional "<3>" level, "[    1.234567] " printk timestamp and "[T12]" caller id before the
# message (console lines have them, /dev/kmsg text does not).
CONSOLE_PREFIX = r"^(?:<\d>)?(?:\[\s*\d+\.\d+\]\s*)?(?:\[\s*[CT]\d+\]\s*)?"

TEST_MARK_RE = re.compile(CONSOLE_PREFIX + re.escape(TEST_MARK).replace(r"\{name\}", r"(?P<name>\S+)")
                          + r"\s*$")

# sched_ext (kernel/sched/ext.c, 6.12, scx_ops_disable_workfn):
#   sched_ext: BPF scheduler "simple" disabled (runnable task stall)
#   sched_ext: simple: kworker/0:1[12] failed to run for 5.012s
SCX_DISABLED_RE = re.compile(CONSOLE_PREFIX
                             + r'sched_ext: BPF scheduler "(?P<name>[^"]*)" disabled \((?P<reason>[^)]*)\)')
SCX_MESSAGE_RE = re.compile(CONSOLE_PREFIX + r"sched_ext: (?P<name>[^:\s]+): (?P<msg>.+)$")

# How many lines after the "disabled" line its message may come (another CPU's printk can
# land in between on the console).
_MESSAGE_WINDOW = 4

# Exit reasons that are a normal unload, not a scheduler failure.
NORMAL_SCX_EXITS = frozenset({
    "unregistered from user space",
    "unregistered from BPF",
    "unregistered from the main kernel",
    "disabled by sysrq-S",
})


@dataclass(frozen=True)
class ScxExit:
    scheduler: str
    reason: str  # the kernel's reason: "runnable task stall", "scx_bpf_error", ...
    message: str  # the detail line after it, if any

    @property
    def is_error(self) -> bool:
        return self.reason not in NORMAL_SCX_EXITS

    def text(self) -> str:
        """The one text of an exit, e.g. 'BPF scheduler "simple" disabled (runnable task
        stall): kworker/0:1[12] failed to run for 5.012s'."""
        head = f'BPF scheduler "{self.scheduler}" disabled ({self.reason})'
        return f"{head}: {self.message}" if self.message else head


class ScxExitStream:
    """find_scx_exits one line at a time (the host's console scanner reads the console as a
    stream): `line` returns the exits completed by that line, `finish` the one still open."""

    def __init__(self) -> None:
        self._open: Optional[tuple[str, str]] = None  # (scheduler, reason) awaiting its message
        self._left = 0

    def line(self, text: str) -> list[ScxExit]:
        done: list[ScxExit] = []
        m = SCX_DISABLED_RE.search(text)
        if m:
            done += self.finish()
            self._open, self._left = (m.group("name"), m.group("reason")), _MESSAGE_WINDOW
            return done
        if self._open is None:
            return done
        mm = SCX_MESSAGE_RE.search(text)
        if mm and mm.group("name") == self._open[0]:
            done.append(ScxExit(*self._open, mm.group("msg").strip()))
            self._open = None
            return done
        self._left -= 1
        if self._left <= 0:
            done += self.finish()
        return done

    def finish(self) -> list[ScxExit]:
        if self._open is None:
            return []
        done = [ScxExit(*self._open, "")]
        self._open = None
        return done


def find_scx_exits(lines: Iterable[str]) -> list[ScxExit]:
    """Every sched_ext disable in `lines` (console or /dev/kmsg text), in order."""
    stream = ScxExitStream()
    exits: list[ScxExit] = []
    for line in lines:
        exits += stream.line(line)
    return exits + stream.finish()


def last_scx_exit(lines: Iterable[str]) -> Optional[ScxExit]:
    exits = find_scx_exits(lines)
    return exits[-1] if exits else None
