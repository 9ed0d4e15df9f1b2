"""Bounds on what the host keeps of guest output: repeated errors folded into one line with
a count, and lists cut with "N more elided". A guest that floods the result stream costs
the host a few lines, not memory and report size in proportion to the flood."""

from __future__ import annotations

from typing import Optional

MAX_DISTINCT = 20  # error lines kept (each with its count)

# How much of the result stream the host reads: a guest cannot make the runner hold more.
RESULT_STREAM_CAP = 8 * 1024 * 1024
# Frames read from it (a stream of more is a flood: the rest is elided, counted), and of
# those, the agent's log lines and the tests kept (ktstr.wire.messages).
MAX_FRAMES = 100_000
MAX_LOGS = 500
MAX_TESTS = 1000
# Console findings of one kind kept with their text (splats, sched_ext exits); past this,
# a count (ktstr.host.console_scan).
MAX_FINDINGS = 200
# The console file on disk keeps its first CONSOLE_FILE_HEAD bytes and a rotating tail of the
# last CONSOLE_FILE_TAIL to twice that, with the elided byte count written in the gap
# (ktstr.host.engines.boot_io.CappedLog); the live scan still reads every byte.
CONSOLE_FILE_HEAD = 4 * 1024 * 1024
CONSOLE_FILE_TAIL = 4 * 1024 * 1024
# How much of the console a BootResult holds in memory for showing.
CONSOLE_TAIL_BYTES = 256 * 1024
# A console line longer than this is read on its head (the rest dropped, never buffered):
# the splat scanner and the monitor's marks alike (Lines).
MAX_LINE_BYTES = 4096


class Tally:
    """Errors grouped by kind (`key`, default the text itself): the first text of each kind
    with how many more of it came, at most `limit` kinds, then a count of the rest."""

    def __init__(self, limit: int = MAX_DISTINCT) -> None:
        self.limit = limit
        self._first: dict[str, str] = {}
        self._count: dict[str, int] = {}
        self.elided = 0
        self.total = 0

    def add(self, text: str, key: Optional[str] = None) -> None:
        k = text if key is None else key
        self.total += 1
        if k in self._count:
            self._count[k] += 1
        elif len(self._first) < self.limit:
            self._first[k], self._count[k] = text, 1
        else:
            self.elided += 1

    def __bool__(self) -> bool:
        return self.total > 0

    def lines(self) -> list[str]:
        out = [text if self._count[k] == 1 else f"{text} (and {self._count[k] - 1} more like it)"
               for k, text in self._first.items()]
        if self.elided:
            out.append(f"{self.elided} more error(s) of other kinds elided")
        return out


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} ... [{len(text) - limit} more characters elided]"


def clip_list(items: list[str], count: int, chars: int) -> list[str]:
    """At most `count` items of at most `chars` each (a screenful), then "N more elided"."""
    out = [clip(i, chars) for i in items[:count]]
    if len(items) > count:
        out.append(f"{len(items) - count} more elided")
    return out


class Lines:
    """A byte stream cut into lines in bounded memory: each complete line with the stream
    offset where it began. A line longer than `limit` is kept to its first `limit` bytes;
    the rest is dropped as it arrives, so a guest that never writes a newline costs `limit`
    bytes, not its whole output."""

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self.limit = limit
        self.offset = 0  # bytes fed so far
        self._partial = bytearray()
        self._start = 0

    @property
    def pending(self) -> int:
        """Bytes held for the line not yet ended (at most `limit`)."""
        return len(self._partial)

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            end = len(data) if nl < 0 else nl
            room = self.limit - len(self._partial)
            self._partial += data[pos : pos + max(0, min(end - pos, room))]
            if nl < 0:
                break
            out.append((self._start, bytes(self._partial)))
            self._partial.clear()
            pos = nl + 1
            self._start = self.offset + pos
        self.offset += len(data)
        return out

    def finish(self) -> list[tuple[int, bytes]]:
        """The last line, if it had no newline."""
        if not self._partial:
            return []
        out = [(self._start, bytes(self._partial))]
        self._partial.clear()
        return out
