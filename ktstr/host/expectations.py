"""Known failures: the one model, matched per finding.

A test's outcome lists its findings (ktstr.wire.results.Finding): each failed claim,
guest-reported failure, kernel splat, sched_ext exit, host monitor finding, hang, crash or
missing result. An Expectation covers findings by kind and text, for the tests it names:

- the run is PASS only if every finding is covered;
- an uncovered finding fails the test with its own text, whatever else is covered;
- a required expectation (`expect_fail`) must also cover at least one finding, else the test
  FAILs with "expected failure did not happen";
- an optional one (`may_fail`: a timing-dependent finding) may cover nothing;
- a covered finding stays in the report as "known: <reason>".

Consequences: once the scheduler is thrown out (a sched_ext exit), the test's own claims are
about a guest that no longer runs it, and a hang, crash or missing result after a splat, an
ejection, a monitor stop or a corrupt stream is that event's ending. Such findings are
covered when every other finding of the test is ("known: consequence of ..."); when nothing
else was found they are judged like any other finding.

`expect_fail`, `may_fail` (ktstr_test), the //sched suites' known and intermittent failures
and the catalogue's measured EEVDF spreads are all this one type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ktstr.errors import KtstrError
from ktstr.wire.results import Finding, TestOutcome
from ktstr.wire.status import Status

# The kinds of finding, as evaluate and the monitor record them.
KINDS = (
    "claim",           # a failed claim (label = value, expected bound)
    "guest",           # any other failure the guest reported (its own words)
    "splat",           # kernel BUG/WARNING/Oops/panic/lockdep/hung task/RCU stall/soft lockup
    "sched_ext_exit",  # sched_ext threw the scheduler out (the kernel's reason)
    "monitor",         # the host monitor (stall, imbalance, DSQ depth, frozen guest)
    "timeout",         # the guest hung and was killed
    "crash",           # the guest crashed or rebooted
    "no_result",       # the guest ended without a result for the test
    "agent",           # the guest agent itself failed
    "unclean_end",     # the test reported, but the VM did not power off
    "topology",        # the guest saw another topology than asked for
    "stream",          # corrupt frames on the result stream
    "protocol",        # the result protocol broken: a bad MAC, a sequence gap, two results, no RunEnd
    "engine",          # the engine failed: nothing ran (INCONCLUSIVE)
    "verdict",         # a failing verdict no finding explained (a payload's own judge)
)
_GUEST = {"claim", "guest"}
_ENDINGS = {"timeout", "crash", "no_result", "agent", "unclean_end"}
# A broken protocol ends runs too: a forger that powers the guest off leaves the tests
# without results, which is the forgery's consequence, not a second fault.
_CAUSES_OF_ENDINGS = {"splat", "sched_ext_exit", "monitor", "stream", "protocol"}


class ExpectationError(KtstrError, ValueError):
    """A malformed expectation (unknown kind, empty text)."""


@dataclass(frozen=True)
class Expectation:
    """Findings of `kinds` (all kinds when empty) whose text (or evidence) contains `text`
    (case-insensitive; `*` stands for any run of characters), in `tests` (every test of the
    target when empty), are known for `reason`. `required`: at least one such finding must
    occur (a negative test)."""

    text: str
    reason: str
    kinds: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    required: bool = False

    def __post_init__(self) -> None:
        if not self.text.strip("* "):
            raise ExpectationError(f"expectation {self.reason!r}: empty text would cover every finding")
        bad = [k for k in self.kinds if k not in KINDS]
        if bad:
            raise ExpectationError(f"expectation {self.text!r}: unknown finding kind {bad[0]!r}; "
                                   f"kinds: {', '.join(KINDS)}")

    @classmethod
    def parse(cls, spec: str, reason: str, tests: Sequence[str] = (), required: bool = False) -> Expectation:
        """From a Starlark/CLI text: `TEXT` or `KIND|TEXT` (`KIND,KIND|TEXT`)."""
        kinds: tuple[str, ...] = ()
        head, sep, tail = spec.partition("|")
        if sep and head and all(k.strip() in KINDS for k in head.split(",")):
            kinds, spec = tuple(k.strip() for k in head.split(",")), tail
        return cls(spec, reason, kinds, tuple(tests), required)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Expectation:
        unknown = sorted(set(data) - {"text", "reason", "kinds", "tests", "required"})
        if unknown:
            raise ExpectationError(f"expectation {data!r}: unknown key(s) {', '.join(unknown)}")
        if "kinds" not in data:  # ktstr_test's form: the kind, if any, is the text's `KIND|` prefix
            return cls.parse(data["text"], data.get("reason", ""), data.get("tests", ()),
                             bool(data.get("required", False)))
        return cls(data["text"], data.get("reason", ""), tuple(data["kinds"]),
                   tuple(data.get("tests", ())), bool(data.get("required", False)))

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "reason": self.reason, "kinds": list(self.kinds),
                "tests": list(self.tests), "required": self.required}

    def applies_to(self, test: str) -> bool:
        return not self.tests or test in self.tests

    def covers(self, finding: Finding) -> bool:
        if self.kinds and finding.kind not in self.kinds:
            return False
        pattern = ".*".join(re.escape(part) for part in self.text.lower().split("*"))
        return any(re.search(pattern, t.lower(), re.DOTALL) for t in (finding.text, finding.evidence) if t)

    def describe_absence(self) -> str:
        kinds = f" of kind {'/'.join(self.kinds)}" if self.kinds else ""
        return f"no finding{kinds} contains {self.text!r}"


def expect_fail(text: str, tests: Sequence[str] = ()) -> list[Expectation]:
    """A negative test's expectation (ktstr_test(expect_fail = ...)); "" means none."""
    return [Expectation.parse(text, f"expected failure {text!r}", tests, required=True)] if text else []


def may_fail(texts: Iterable[str], tests: Sequence[str] = ()) -> list[Expectation]:
    """Known timing-dependent findings (ktstr_test(may_fail = [...]))."""
    if isinstance(texts, str):  # a str is an Iterable[str] of its characters
        raise ExpectationError(f"may_fail must be a list of texts, not the string {texts!r}")
    return [Expectation.parse(t, f"known intermittent {t!r}", tests) for t in texts if t]


def _consequence(finding: Finding, kinds: set[str]) -> bool:
    if finding.kind in _GUEST:
        return "sched_ext_exit" in kinds
    if finding.kind in _ENDINGS:
        return bool(kinds & _CAUSES_OF_ENDINGS)
    return False


def judge(outcome: TestOutcome, expectations: Sequence[Expectation]) -> TestOutcome:
    """Cover `outcome`'s findings with the expectations that apply to its test and set its
    verdict from what stays uncovered. An outcome no expectation applies to is unchanged."""
    mine = [e for e in expectations if e.applies_to(outcome.name)]
    if not mine:
        return outcome
    if not outcome.findings and outcome.verdict in (Status.FAIL, Status.INCONCLUSIVE):
        # A failing verdict is always a finding, even one a payload's judge did not itemise.
        outcome.findings.append(Finding("verdict", outcome.reason, outcome.verdict))
    findings = outcome.findings
    kinds = {f.kind for f in findings}
    for f in findings:
        hit = next((e for e in mine if e.covers(f)), None)
        if hit is not None:
            f.known = hit.reason
    causes = [f for f in findings if not _consequence(f, kinds)]
    if causes and all(f.known for f in causes):
        for f in findings:
            if not f.known:
                f.known = f"consequence of {causes[0].text}"
    # Causes first: the report names what went wrong, not what followed from it.
    cause_ids = {id(f) for f in causes}
    uncovered = ([f for f in causes if not f.known]
                 + [f for f in findings if not f.known and id(f) not in cause_ids])
    missing = [e for e in mine if e.required and not any(e.covers(f) for f in findings)]
    was = f"{outcome.verdict.value}: {outcome.reason}" if outcome.reason else outcome.verdict.value
    absent = [e for e in mine if not e.required and not any(e.covers(f) for f in findings)]
    notes = [f"{e.reason} did not occur this run" for e in absent]
    if uncovered:
        verdict = Status.PASS
        for f in uncovered:
            verdict = verdict.worst(f.status)
        outcome.verdict = verdict
        more = f" (and {len(uncovered) - 1} more uncovered finding(s))" if len(uncovered) > 1 else ""
        outcome.reason = f"{uncovered[0].text}{more}"
        if missing:
            outcome.reason += f"; expected failure did not happen: {missing[0].describe_absence()}"
    elif missing:
        outcome.verdict = Status.FAIL
        outcome.reason = f"expected failure did not happen: {missing[0].describe_absence()}; got {was}"
    elif findings:
        outcome.verdict = Status.PASS
        first = causes[0]  # what happened, not what followed from it
        outcome.reason = f"known: {first.known}: {first.text}"
        if len(findings) > 1:
            outcome.reason += f" (all {len(findings)} findings known)"
    # The covered findings are in outcome.findings (known_lines); this says what did not occur.
    outcome.expected = "; ".join(notes) or None
    return outcome


__all__ = ["KINDS", "Expectation", "ExpectationError", "expect_fail", "judge", "may_fail"]
