"""AssertResult: what a test function returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ClaimRecord:
    label: str
    value: str
    bound: str
    passed: bool

    def __str__(self) -> str:
        return f"{self.label} = {self.value}, expected {self.bound}"


@dataclass
class AssertResult:
    passed: bool = True
    skipped: bool = False
    inconclusive: bool = False
    reason: str = ""
    details: list[str] = field(default_factory=list)
    claims: list[ClaimRecord] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)

    @classmethod
    def pass_(cls, **stats: float) -> "AssertResult":
        return cls(stats=dict(stats))

    @classmethod
    def skip(cls, reason: str) -> "AssertResult":
        return cls(passed=True, skipped=True, reason=reason)

    @classmethod
    def fail(cls, reason: str, *details: str) -> "AssertResult":
        return cls(passed=False, reason=reason, details=list(details))

    def add_failure(self, message: str) -> None:
        self.passed = False
        self.details.append(message)
        if not self.reason:
            self.reason = message

    def merge(self, other: "AssertResult") -> "AssertResult":
        """Both must pass; details, claims and stats are combined."""
        out = AssertResult(passed=self.passed and other.passed,
                           skipped=self.skipped and other.skipped,
                           inconclusive=self.inconclusive or other.inconclusive,
                           reason=self.reason if not self.passed or other.passed else other.reason,
                           details=self.details + other.details,
                           claims=self.claims + other.claims,
                           stats={**self.stats, **other.stats})
        if not out.reason:
            out.reason = other.reason
        return out

    @property
    def status(self) -> str:
        if not self.passed:
            return "FAIL"
        if self.skipped:
            return "SKIP"
        if self.inconclusive:
            return "INCONCLUSIVE"
        return "PASS"
