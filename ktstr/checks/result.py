"""AssertResult: what a test function returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from ktstr.wire.messages import ClaimRecord  # the one claim type, shared with the host
from ktstr.wire.status import Status

__all__ = ["AssertResult", "ClaimRecord"]


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
    def status(self) -> Status:
        if not self.passed:
            return Status.FAIL
        if self.skipped:
            return Status.SKIP
        if self.inconclusive:
            return Status.INCONCLUSIVE
        return Status.PASS
