"""Status: how a test ended. One enum for the guest (AssertResult.status), the wire
(ktstr.proto Status) and the host's judgement (TestOutcome.verdict)."""

from __future__ import annotations

import enum

from ktstr.errors import KtstrError
from ktstr.wire import ktstr_pb2 as pb


class StatusError(KtstrError, ValueError):
    """A status number that is not one of ktstr.proto's (or STATUS_UNSPECIFIED)."""


class Status(str, enum.Enum):
    PASS = "PASS"
    SKIP = "SKIP"
    INCONCLUSIVE = "INCONCLUSIVE"
    FAIL = "FAIL"

    @property
    def rank(self) -> int:
        # The lattice: combining two statuses keeps the worse one.
        return _RANK[self]

    def worst(self, other: Status) -> Status:
        return self if self.rank >= other.rank else other

    @property
    def ok(self) -> bool:
        """Does this status let the Bazel test pass? A skip states its reason and passes;
        an inconclusive run proved nothing and must not look green."""
        return self in (Status.PASS, Status.SKIP)

    def to_pb(self) -> int:
        return int(pb.Status.Value(self.value))

    @classmethod
    def from_pb(cls, number: int) -> Status:
        """The status of a TestResult message; STATUS_UNSPECIFIED (a guest that set none)
        and numbers this host does not know are errors."""
        name = pb.Status.Name(number) if number in pb.Status.values() else ""
        if name not in cls.__members__:
            raise StatusError(f"unknown test status {number} ({name or 'not in ktstr.proto'})")
        return cls[name]


_RANK = {Status.PASS: 0, Status.SKIP: 1, Status.INCONCLUSIVE: 2, Status.FAIL: 3}
