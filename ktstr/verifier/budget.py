"""A scheduler's verifier-complexity budget: "insns=200000,peak_states=5000,total_insns=400000".

A plain key bounds every program (the largest one counts); `total_<key>` bounds the sum over
the scheduler's programs. Keys: insns, total_states, peak_states, max_states_per_insn,
mark_read, time_us, verified_insns.
"""

from __future__ import annotations

from dataclasses import dataclass

from ktstr.errors import KtstrError
from ktstr.verifier.records import ProgramRecord
from ktstr.wire.verifier import FIGURES


class BudgetError(KtstrError, ValueError):
    """A budget that does not parse; the message names the scheduler and the syntax."""


@dataclass(frozen=True)
class Limit:
    key: str
    bound: int

    @property
    def total(self) -> bool:
        return self.key.startswith("total_") and self.key != "total_states"

    @property
    def figure(self) -> str:
        return self.key[len("total_"):] if self.total else self.key


def parse_budget(text: str, where: str = "budget") -> list[Limit]:
    limits = []
    for part in filter(None, (p.strip() for p in text.replace(" ", ",").split(","))):
        key, sep, value = part.partition("=")
        figure = key[len("total_"):] if key.startswith("total_") and key != "total_states" else key
        if not sep or figure not in FIGURES or not value.strip().isdigit():
            raise BudgetError(f"{where}: {part!r} is not KEY=N with KEY one of "
                              f"{', '.join(FIGURES)} (or total_<key> for the sum over programs)")
        limits.append(Limit(key, int(value)))
    return limits


def check(limits: list[Limit], programs: list[ProgramRecord]) -> list[str]:
    """Each exceeded limit, as one sentence naming the program and both numbers."""
    over = []
    for lim in limits:
        values = [(p.figures.get(lim.figure, -1), p.name) for p in programs]
        values = [(v, n) for v, n in values if v >= 0]
        if not values:
            continue
        if lim.total:
            total = sum(v for v, _ in values)
            if total > lim.bound:
                over.append(f"verifier budget {lim.key}={lim.bound} exceeded: {total} over "
                            f"{len(values)} programs")
        else:
            value, name = max(values)
            if value > lim.bound:
                over.append(f"verifier budget {lim.key}={lim.bound} exceeded: {name} has {value}")
    return over
