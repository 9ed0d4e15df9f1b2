"""Verdicts and the evidence that backs them (the host's result model)."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any, Optional


class Verdict(str, enum.Enum):
    PASS = "PASS"
    SKIP = "SKIP"
    INCONCLUSIVE = "INCONCLUSIVE"
    FAIL = "FAIL"

    @property
    def rank(self) -> int:
        # The lattice: combining two verdicts keeps the worse one.
        return _RANK[self]

    def worst(self, other: "Verdict") -> "Verdict":
        return self if self.rank >= other.rank else other

    @property
    def ok(self) -> bool:
        """Does this verdict let the Bazel test pass? A skip states its reason and passes;
        an inconclusive run proved nothing and must not look green."""
        return self in (Verdict.PASS, Verdict.SKIP)


_RANK = {Verdict.PASS: 0, Verdict.SKIP: 1, Verdict.INCONCLUSIVE: 2, Verdict.FAIL: 3}


@dataclass(frozen=True)
class Claim:
    """One failed (or passed) pointwise check reported by the guest."""

    label: str
    value: str
    bound: str
    passed: bool = False

    def text(self) -> str:
        return f"{self.label} = {self.value} (bound: {self.bound})"


@dataclass
class GuestTestResult:
    """What the guest agent said about one test function."""

    name: str
    status: Verdict
    reason: str = ""
    claims: list[Claim] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    scheduler_output: str = ""
    sched_ext_exit: str = ""  # e.g. "runnable task stall: ..." when sched_ext left enabled
    duration_s: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)
    sched_ext_dump: str = ""  # the kernel's debug dump of the ejected scheduler


@dataclass
class Splat:
    kind: str  # BUG, WARNING, panic, lockdep, hung_task, rcu_stall, oops
    line: str
    context: list[str] = field(default_factory=list)


@dataclass
class TestOutcome:
    """The final, host-judged result of one test function."""

    __test__ = False  # not a pytest class

    name: str
    verdict: Verdict
    reason: str
    failed_claims: list[Claim] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    splats: list[Splat] = field(default_factory=list)
    sched_ext_exit: str = ""
    scheduler_output: str = ""
    duration_s: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)
    expected: Optional[str] = None  # "expect FAIL containing ..." note, when inverted
    sched_ext_dump: str = ""  # the kernel's debug dump (run queues, tasks) at the ejection

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data
