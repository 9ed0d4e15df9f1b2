"""The host's judgement of one test (TestOutcome) and the evidence that backs it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from ktstr.sanitize import file_name
from ktstr.wire.messages import ClaimRecord
from ktstr.wire.status import Status


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
    verdict: Status
    reason: str
    failed_claims: list[ClaimRecord] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    splats: list[Splat] = field(default_factory=list)
    sched_ext_exit: str = ""
    scheduler_output: str = ""
    duration_s: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)
    expected: Optional[str] = None  # "expect FAIL containing ..." note, when inverted
    sched_ext_dump: str = ""  # the kernel's debug dump (run queues, tasks) at the ejection

    @property
    def scheduler_log_file(self) -> str:
        """The file name of its scheduler output in the run's out dir (the name may come
        from the guest: sanitized)."""
        return f"scheduler-{file_name(self.name)}.log"

    @property
    def dump_file(self) -> str:
        return f"sched_ext_dump-{file_name(self.name)}.txt"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TestOutcome:
        """The inverse of to_json (result.json's "tests" entries)."""
        return cls(
            name=data["name"], verdict=Status(data["verdict"]), reason=data["reason"],
            failed_claims=[ClaimRecord(**c) for c in data.get("failed_claims", [])],
            details=list(data.get("details", [])),
            splats=[Splat(**s) for s in data.get("splats", [])],
            sched_ext_exit=data.get("sched_ext_exit", ""),
            scheduler_output=data.get("scheduler_output", ""),
            duration_s=data.get("duration_s", 0.0),
            stats=dict(data.get("stats", {})),
            expected=data.get("expected"),
            sched_ext_dump=data.get("sched_ext_dump", ""),
        )

    def evidence(self) -> str:
        """Everything the outcome says, as one text: what expect_fail / may_fail texts are
        matched against."""
        return "\n".join([
            self.reason, self.sched_ext_exit, *self.details,
            *(c.text() for c in self.failed_claims),
            *(s.line for s in self.splats),
            self.sched_ext_dump,
        ])
