"""Read the kernel console for things that fail a test whatever the guest said.

Kernel splats (BUG, WARNING, Oops, panic, lockdep reports, hung tasks, RCU stalls, soft
lockups) and sched_ext's own "BPF scheduler disabled (reason)" lines, which carry the
kernel's words for why a scheduler was thrown out ("runnable task stall", scx_bpf_error
text, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ktstr.host.outcome import Splat
from ktstr.wire.marks import CONSOLE_PREFIX as _PREFIX
from ktstr.wire.marks import TEST_MARK_RE, ScxExit
from ktstr.wire.marks import find_scx_exits as _find_scx_exits

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


def console_lines(console: bytes | list[str]) -> list[str]:
    if isinstance(console, list):
        return console
    text = console.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


@dataclass
class ConsoleWindows:
    """The console cut at the agent's test marks: what the kernel said before any test
    began (boot, and the tail of an older test whose mark scrolled out of the tail) and
    while each test ran (from its mark to the next test's)."""

    prelude: list[str]
    by_test: dict[str, list[str]]

    def lines_for(self, name: str) -> list[str]:
        """What counts against a test: the prelude (a splat at boot taints every test of
        the VM) and its own window. Without marks (an agent that writes none, the
        selftests runner) that is the whole console."""
        return self.prelude + self.by_test.get(name, [])


def split_by_test(console: bytes | list[str]) -> ConsoleWindows:
    lines = console_lines(console)
    prelude: list[str] = []
    by_test: dict[str, list[str]] = {}
    current = prelude
    for line in lines:
        m = TEST_MARK_RE.search(line)
        if m:
            current = by_test.setdefault(m.group("name"), [])
        current.append(line)
    return ConsoleWindows(prelude, by_test)


def find_splats(console: bytes | list[str]) -> list[Splat]:
    lines = console_lines(console)
    splats: list[Splat] = []
    for i, line in enumerate(lines):
        for kind, pattern in SPLAT_PATTERNS:
            if pattern.search(line):
                context = [c for c in lines[i + 1 : i + 1 + _CONTEXT_LINES] if c.strip()]
                splats.append(Splat(kind=kind, line=line.strip(), context=context))
                break
    return splats


def find_scx_exits(console: bytes | list[str]) -> list[ScxExit]:
    return _find_scx_exits(console_lines(console))
