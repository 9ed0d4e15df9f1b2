"""Scheduler feature flags and the profiles a catalogue scenario runs under (as data).

A scheduler may implement features the catalogue has scenarios for: llc (LLC-aware
placement), borrow (idle CPUs lent across cgroups), steal (work stealing; needs llc),
rebal (load rebalancing), reject-pin (pinned tasks refused), no-ctrl (no cgroup
control). A profile is a set of flags the scheduler runs with (its arguments for them come
from the scheduler's Bazel target); a scenario may require or exclude flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from ktstr.errors import KtstrError


class FlagError(KtstrError, ValueError):
    """A scheduler flag the catalogue does not know."""


@dataclass(frozen=True)
class FlagDecl:
    name: str
    requires: tuple[str, ...] = ()
    doc: str = ""


FLAGS: tuple[FlagDecl, ...] = (
    FlagDecl("llc", doc="LLC-aware placement"),
    FlagDecl("borrow", doc="idle CPUs lent across cgroups"),
    FlagDecl("steal", ("llc",), doc="work stealing between LLCs"),
    FlagDecl("rebal", doc="load rebalancing"),
    FlagDecl("reject-pin", doc="pinned tasks refused"),
    FlagDecl("no-ctrl", doc="no cgroup control"),
)
FLAG_NAMES = tuple(f.name for f in FLAGS)
_BY_NAME = {f.name: f for f in FLAGS}


def check_flags(flags, what: str) -> None:
    unknown = sorted(set(flags) - set(FLAG_NAMES))
    if unknown:
        raise FlagError(f"{what}: unknown flag {', '.join(unknown)}; flags: {', '.join(FLAG_NAMES)}")


def canonical(flags) -> tuple[str, ...]:
    return tuple(f for f in FLAG_NAMES if f in set(flags))


def profile_name(flags) -> str:
    """Flags joined with '+' in canonical order, 'default' when there are none."""
    return "+".join(canonical(flags)) or "default"


def profiles(required=(), excluded=(), available=FLAG_NAMES) -> list[tuple[str, ...]]:
    """Every subset of the optional flags (available, neither required nor excluded) plus the
    required ones, dropping subsets whose flags' own requirements are not met."""
    check_flags(required, "required")
    check_flags(excluded, "excluded")
    optional = [f for f in FLAG_NAMES if f in available and f not in required and f not in excluded]
    out = []
    for k in range(len(optional) + 1):
        for subset in combinations(optional, k):
            chosen = set(subset) | set(required)
            if all(set(_BY_NAME[f].requires) <= chosen for f in chosen) and not chosen & set(excluded):
                out.append(canonical(chosen))
    return sorted(set(out), key=lambda p: (len(p), [FLAG_NAMES.index(f) for f in p]))
