"""Read the kernel console for things that fail a test whatever the guest said.

The whole console is read, as a stream while the VM runs (ConsoleScanner, fed by
engines/boot_io.py), never a tail: every finding keeps its byte offset, and the evaluator
places it in a test's window by the agent's frames (never by console text, which any guest
process can print).

Kernel splats (BUG, WARNING, Oops, panic, lockdep reports, hung tasks, RCU stalls, soft
lockups) and sched_ext's own "BPF scheduler disabled (reason)" lines, which carry the
kernel's words for why a scheduler was thrown out ("runnable task stall", scx_bpf_error
text, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from ktstr.wire.marks import CONSOLE_PREFIX as _PREFIX
from ktstr.wire.marks import SCX_DISABLED_RE, ScxExit, ScxExitStream
from ktstr.wire.bounds import MAX_FINDINGS, MAX_LINE_BYTES, Lines
from ktstr.wire.marks import find_scx_exits as _find_scx_exits
from ktstr.wire.results import Splat

# Order matters: the first pattern that matches a line names its kind.
SPLAT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("panic", re.compile(_PREFIX + r"Kernel panic - not syncing")),
    ("lockdep", re.compile(_PREFIX + r"WARNING: (possible (circular|recursive) locking|inconsistent lock state|"
                           r"suspicious RCU usage|possible irq lock inversion|held lock freed|"
                           r"lock held when returning)")),
    ("soft_lockup", re.compile(_PREFIX + r"(watchdog: )?BUG: soft lockup")),
    ("BUG", re.compile(_PREFIX + r"(BUG: |kernel BUG at )")),
    ("oops", re.compile(_PREFIX + r"(Oops: |general protection fault|UBSAN: )")),
    ("WARNING", re.compile(_PREFIX + r"WARNING: ")),
    ("hung_task", re.compile(_PREFIX + r"INFO: task \S+ blocked for more than \d+ seconds")),
    ("rcu_stall", re.compile(_PREFIX + r"(rcu: )?INFO: rcu_\w+ (self-)?detected stalls?")),
]

# Lines after a splat's first line worth keeping as its context (the trace head).
_CONTEXT_LINES = 12
# Bounds of the streaming scan (ktstr.wire.bounds): a console line longer than MAX_LINE_BYTES
# is judged on its head, and after MAX_FINDINGS findings of one kind only a count is kept.


def console_lines(console: bytes | list[str]) -> list[str]:
    if isinstance(console, list):
        return console
    text = console.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def splat_kind(line: str) -> Optional[str]:
    """The kind of splat a console line opens, or None."""
    for kind, pattern in SPLAT_PATTERNS:
        if pattern.search(line):
            return kind
    return None


@dataclass
class ConsoleScan:
    """What the whole console held, each finding with the byte offset of its line: the
    evaluator places it in the test window (or outside every window) by that offset."""

    splats: list[tuple[int, Splat]] = field(default_factory=list)
    scx_exits: list[tuple[int, ScxExit]] = field(default_factory=list)
    elided: int = 0  # findings past MAX_FINDINGS, counted only
    total_bytes: int = 0


class ConsoleScanner:
    """Reads the console as a stream (fed while the VM runs, in chunks of any size) and
    keeps every splat and sched_ext exit with its offset, in bounded memory: nothing of the
    console itself is kept but the line being read (at most MAX_LINE_BYTES) and the context
    of the splats still collecting theirs."""

    def __init__(self) -> None:
        self.scan = ConsoleScan()
        self._lines = Lines(MAX_LINE_BYTES)
        self._open: list[tuple[Splat, int]] = []  # splats collecting context: lines left
        self._scx = ScxExitStream()
        self._scx_at = 0

    @property
    def offset(self) -> int:
        return self.scan.total_bytes

    def feed(self, data: bytes) -> None:
        for start, raw in self._lines.feed(data):
            self._line(raw, start)
        self.scan.total_bytes = self._lines.offset

    def finish(self) -> ConsoleScan:
        for start, raw in self._lines.finish():
            self._line(raw, start)
        for ex in self._scx.finish():
            self._add_scx(ex)
        self._open = []
        return self.scan

    def _line(self, raw: bytes, offset: int) -> None:
        line = raw.decode("utf-8", "replace").replace("\r", "")
        for splat, _ in self._open:
            if line.strip():
                splat.context.append(line)
        self._open = [(s, n - 1) for s, n in self._open if n > 1]
        kind = splat_kind(line)
        if kind is not None:
            if len(self.scan.splats) < MAX_FINDINGS:
                splat = Splat(kind=kind, line=line.strip(), context=[])
                self.scan.splats.append((offset, splat))
                self._open.append((splat, _CONTEXT_LINES))
            else:
                self.scan.elided += 1
        if SCX_DISABLED_RE.search(line):
            for ex in self._scx.finish():
                self._add_scx(ex)
            self._scx_at = offset
        for ex in self._scx.line(line):
            self._add_scx(ex)

    def _add_scx(self, ex: ScxExit) -> None:
        if len(self.scan.scx_exits) < MAX_FINDINGS:
            self.scan.scx_exits.append((self._scx_at, ex))
        else:
            self.scan.elided += 1


def scan_console(console: bytes) -> ConsoleScan:
    """The scan of a console held in memory (a BootResult without a live scan)."""
    scanner = ConsoleScanner()
    scanner.feed(console)
    return scanner.finish()


def find_splats(console: bytes | list[str]) -> list[Splat]:
    lines = console_lines(console)
    splats: list[Splat] = []
    for i, line in enumerate(lines):
        kind = splat_kind(line)
        if kind is not None:
            context = [c for c in lines[i + 1 : i + 1 + _CONTEXT_LINES] if c.strip()]
            splats.append(Splat(kind=kind, line=line.strip(), context=context))
    return splats


def find_scx_exits(console: bytes | list[str]) -> list[ScxExit]:
    return _find_scx_exits(console_lines(console))
