"""Judge one VM run: the guest's own results, checked against what the host saw.

The guest's word is necessary but not sufficient. A test passes only if the guest reported
PASS for it, the kernel console shows no splat, sched_ext did not throw the scheduler out,
the result stream was intact, and the guest powered off on its own. Every other ending is a
verdict with evidence; nothing is dropped.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ktstr.host.children import CUT_SHORT
from ktstr.host.console_scan import find_scx_exits, find_splats, split_by_test
from ktstr.host.engines import BootResult, ExitKind
from ktstr.host.outcome import Splat, TestOutcome
from ktstr.wire.marks import ScxExit
from ktstr.wire.messages import GuestRun
from ktstr.wire.status import Status


def evaluate(expected: Sequence[str], boot: BootResult, guest: GuestRun,
             topology: str = "") -> list[TestOutcome]:
    """`topology`: the shape asked for; a guest that saw another one proves nothing about it."""
    # Tests sharing a VM are judged on their own part of the console: a scheduler thrown
    # out during the second test is the second test's failure, not the first's.
    windows = split_by_test(boot.console_tail)
    outcomes = []
    for name in expected:
        lines = windows.lines_for(name)
        outcome = _base_outcome(name, boot, guest)
        _apply_topology(outcome, topology, guest.topology)
        _apply_splats(outcome, find_splats(lines))
        _apply_scx_exit(outcome, [e for e in find_scx_exits(lines) if e.is_error])
        _apply_stream_errors(outcome, guest.stream_errors)
        _apply_unclean_end(outcome, boot, name in guest.results)
        outcomes.append(outcome)
    return outcomes


def _base_outcome(name: str, boot: BootResult, guest: GuestRun) -> TestOutcome:
    result = guest.results.get(name)
    if result is not None:
        return TestOutcome(
            name=name,
            verdict=result.status,
            reason=result.reason or ("guest reported success" if result.status == Status.PASS else ""),
            failed_claims=[c for c in result.claims if not c.passed],
            details=list(result.details),
            sched_ext_exit=result.sched_ext_exit,
            scheduler_output=result.scheduler_output,
            duration_s=result.duration_s,
            stats=dict(result.stats),
            sched_ext_dump=result.sched_ext_dump,
        )
    where = "while running" if name in guest.started else "before starting"
    why = boot.exit_reason or boot.detail
    if boot.exit_kind == ExitKind.TIMEOUT:
        verdict, reason = Status.FAIL, f"guest hung: {why} {where} this test"
    elif boot.exit_kind == ExitKind.CRASH:
        verdict, reason = Status.FAIL, f"guest crashed {where} this test: {why}"
    elif boot.exit_kind == ExitKind.ENGINE_ERROR:
        verdict, reason = Status.INCONCLUSIVE, f"engine error, the test never ran: {why}"
    elif guest.agent_error:
        verdict, reason = Status.FAIL, f"guest agent failed: {guest.agent_error}"
    else:
        verdict, reason = Status.FAIL, (
            f"guest ended ({boot.exit_kind.value}) without a result for this test {where} it"
        )
    if guest.stream_errors:
        reason += f"; the result stream had {len(guest.stream_errors)} corrupt part(s): {guest.stream_errors[0]}"
    return TestOutcome(name=name, verdict=verdict, reason=reason)


def _apply_topology(outcome: TestOutcome, wanted: str, seen: str) -> None:
    if not wanted or not seen or wanted == seen:
        return
    note = (f"the guest saw topology {seen} in sysfs, not the {wanted} asked for: the engine "
            f"or the kernel did not build it, so the test says nothing about {wanted}")
    outcome.details.append(note)
    if outcome.verdict in (Status.PASS, Status.SKIP):
        outcome.verdict = Status.FAIL
        outcome.reason = note


def _apply_splats(outcome: TestOutcome, splats: list[Splat]) -> None:
    if not splats:
        return
    outcome.splats = list(splats)
    first = splats[0]
    if outcome.verdict != Status.FAIL or outcome.reason.startswith(("guest hung", "guest ended")):
        extra = f" ({len(splats)} splats)" if len(splats) > 1 else ""
        was = f"; guest said {outcome.verdict.value}: {outcome.reason}" if outcome.reason else ""
        outcome.reason = f"kernel {first.kind}: {first.line}{extra}{was}"
    outcome.verdict = Status.FAIL


def _apply_scx_exit(outcome: TestOutcome, scx_errors: list[ScxExit]) -> None:
    if not scx_errors:
        return
    ex = scx_errors[0]
    if not outcome.sched_ext_exit:
        outcome.sched_ext_exit = ex.text()
    if outcome.verdict != Status.FAIL:
        outcome.reason = f"sched_ext: {ex.text()}"
    elif ex.reason not in outcome.reason:
        outcome.reason = f"{outcome.reason} [sched_ext: {ex.text()}]"
    outcome.verdict = Status.FAIL


def _apply_stream_errors(outcome: TestOutcome, errors: list[str]) -> None:
    if not errors:
        return
    outcome.details += [f"result stream: {e}" for e in errors]
    if outcome.verdict == Status.PASS:
        outcome.verdict = Status.INCONCLUSIVE
        outcome.reason = f"result stream had {len(errors)} corrupt frame(s): {errors[0]}"


def _apply_unclean_end(outcome: TestOutcome, boot: BootResult, reported: bool) -> None:
    """A test that reported but whose VM then hung or crashed is not a clean pass."""
    if not reported or boot.exit_kind == ExitKind.POWEROFF:
        return
    if boot.exit_kind == ExitKind.STOPPED and boot.exit_reason.startswith(CUT_SHORT):
        return  # the host ran out of time after this test finished: its verdict stands
    note = f"after the results the guest did not power off: {boot.exit_kind.value} ({boot.exit_reason or boot.detail})"
    outcome.details.append(note)
    if outcome.verdict in (Status.PASS, Status.SKIP):
        if boot.exit_kind == ExitKind.ENGINE_ERROR:
            outcome.verdict = Status.INCONCLUSIVE
        else:
            outcome.verdict = Status.FAIL
        outcome.reason = note


def apply_expectation(outcome: TestOutcome, expect_fail: Optional[str],
                      may_fail: Sequence[str] = ()) -> TestOutcome:
    """expect_fail (negative tests): PASS iff the run FAILed and its evidence contains the text.
    may_fail (known intermittent failures' texts): a FAIL whose evidence contains one of
    them counts as PASS, saying so; a PASS stays a PASS; any other FAIL stays a FAIL."""
    if isinstance(may_fail, str):  # a str is a Sequence[str] of its characters
        raise TypeError(f"may_fail must be a list of texts, not the string {may_fail!r}")
    known = [k for k in may_fail if k]
    if known and not expect_fail:
        evidence = outcome.evidence().lower()
        hit = next((k for k in known if k.lower() in evidence), None)
        names = " or ".join(repr(k) for k in known)
        if outcome.verdict == Status.FAIL and hit is not None:
            outcome.expected = f"known intermittent FAIL containing {hit!r} occurred: {outcome.reason}"
            outcome.verdict = Status.PASS
            outcome.reason = outcome.expected
        elif outcome.verdict == Status.PASS:
            outcome.expected = f"known intermittent FAIL containing {names} did not occur this run"
        return outcome
    if not expect_fail:
        return outcome
    evidence = outcome.evidence()
    original = f"{outcome.verdict.value}: {outcome.reason}"
    if outcome.verdict == Status.FAIL and expect_fail.lower() in evidence.lower():
        outcome.expected = f"expected FAIL containing {expect_fail!r} and got it: {outcome.reason}"
        outcome.verdict = Status.PASS
        outcome.reason = outcome.expected
    else:
        outcome.expected = f"expected FAIL containing {expect_fail!r}"
        outcome.verdict = Status.FAIL
        outcome.reason = f"expected FAIL containing {expect_fail!r}, got {original}"
    return outcome
