"""Per-test console windows, cut by the agent's own frames.

The host notes the console offset each time the result stream grows (BootResult.stream_clock),
so each TestStart and TestResult frame has a place in the console: a test's window runs
from its TestStart to its TestResult (to the end of the console when it has none). Console
text is never a delimiter: any guest process can print "ktstr: test x begins". A finding
outside every window (boot, between tests, after the last) belongs to no test and fails the
run, named by where it was.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Optional, Sequence

from ktstr.wire.messages import GuestRun


@dataclass(frozen=True)
class Window:
    name: str
    start: int  # console offsets, [start, end)
    end: int


@dataclass
class TestWindows:
    """framed=False: the console was not followed with the stream (a BootResult built
    without a live scan), so there are no windows and every finding counts against every test."""

    __test__ = False  # not a pytest class

    framed: bool
    windows: list[Window] = field(default_factory=list)

    def of(self, name: str) -> Optional[Window]:
        return next((w for w in self.windows if w.name == name), None)

    def holds(self, name: str, offset: int) -> bool:
        if not self.framed:
            return True
        w = self.of(name)
        return w is not None and w.start <= offset < w.end

    def outside(self, offset: int) -> Optional[str]:
        """None when `offset` is in some test's window, else where it is, in words."""
        if not self.framed or any(w.start <= offset < w.end for w in self.windows):
            return None
        # Windows are in the order the tests started: the last before and the first after.
        before = [w for w in self.windows if w.end <= offset]
        after = [w for w in self.windows if w.start > offset]
        if not before:
            return "during boot, before any test began"
        last = before[-1]
        if not after:
            return f"after the last test ({last.name}) ended"
        nxt = after[0]
        return f"between tests {last.name} and {nxt.name}"


def frame_windows(guest: GuestRun, clock: Sequence[tuple[int, int, int]], console_bytes: int,
                  framed: bool) -> TestWindows:
    """The windows of the tests the agent started, placed by when their frames arrived."""
    if not framed:
        return TestWindows(False)
    seen = [entry[0] for entry in clock]

    def console_at(stream_offset: int, first: bool) -> int:
        # The first poll that saw the frame: the console before that poll read (for a
        # start) or after it (for an end), so a window never loses its edge to the poll.
        i = bisect.bisect_left(seen, stream_offset)
        if i == len(seen):
            return console_bytes
        return clock[i][1] if first else clock[i][2]

    windows = []
    for name, at in guest.start_at.items():
        start = console_at(at, True)
        end = console_at(guest.result_at[name], False) if name in guest.result_at else console_bytes
        windows.append(Window(name, start, max(start, end)))
    return TestWindows(True, windows)
