"""AssertResult: what a test function returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from ktstr.wire.messages import NOT_CHECKED_PREFIX, ClaimRecord  # the one claim type, shared with the host
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

    def note_not_checked(self, note: str) -> None:
        """A check that is off: "<check>: <why>". It travels among the details with the
        wire's prefix (the agent forwards details; the host splits them out) and fails
        nothing."""
        line = NOT_CHECKED_PREFIX + note
        if line not in self.details:
            self.details.append(line)

    @property
    def not_checked(self) -> list[str]:
        return [d[len(NOT_CHECKED_PREFIX):] for d in self.details if d.startswith(NOT_CHECKED_PREFIX)]

    @property
    def failures(self) -> list[str]:
        """The failure details (without the not-checked notes)."""
        return [d for d in self.details if not d.startswith(NOT_CHECKED_PREFIX)]

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
                           details=self.details + [d for d in other.details
                                                   if not (d.startswith(NOT_CHECKED_PREFIX) and d in self.details)],
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
