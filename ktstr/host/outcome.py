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
class Finding:
    """One thing that went wrong in a test, the unit expectations are judged on
    (ktstr/host/expectations.py): a failed claim, a guest-reported failure, a kernel splat, a
    sched_ext exit, a host monitor finding, a hang, a crash, a missing result, ...

    `text` is what the report shows and what an expectation's text is matched against,
    together with `evidence` (a splat's trace head, the sched_ext dump). `known` is the
    covering expectation's reason once one covers it ("" = not covered)."""

    kind: str    # one of expectations.KINDS
    text: str
    status: Status = Status.FAIL  # FAIL, or INCONCLUSIVE (the run proved nothing)
    evidence: str = ""
    known: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "status": self.status.value,
                "evidence": self.evidence, "known": self.known}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(kind=data["kind"], text=data["text"], status=Status(data.get("status", "FAIL")),
                   evidence=data.get("evidence", ""), known=data.get("known", ""))


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
    expected: Optional[str] = None  # known failures that did not occur this run (expectations.judge)
    sched_ext_dump: str = ""  # the kernel's debug dump (run queues, tasks) at the ejection
    # Everything that went wrong, one Finding each; a covered one says "known: <reason>".
    findings: list[Finding] = field(default_factory=list)
    # Checks the test switched off, each "<check>: <reason>" (reported as "not checked: ...").
    not_checked: list[str] = field(default_factory=list)

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
        data["findings"] = [f.to_json() for f in self.findings]
        return data

    def known_lines(self) -> list[str]:
        """The report's lines for covered findings and switched-off checks."""
        return ([f"known: {f.known}: {f.text}" for f in self.findings if f.known]
                + [f"not checked: {n}" for n in self.not_checked])

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
            findings=[Finding.from_json(f) for f in data.get("findings", [])],
            not_checked=list(data.get("not_checked", [])),
        )
