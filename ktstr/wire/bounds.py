"""Bounds on what the host keeps of guest output: repeated errors folded into one line with
a count, and lists cut with "N more elided". A guest that floods the result stream costs
the host a few lines, not memory and report size in proportion to the flood."""

from __future__ import annotations

from typing import Optional

MAX_DISTINCT = 20  # error lines kept (each with its count)


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
