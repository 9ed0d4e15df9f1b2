"""Judge one VM run: the guest's own results, checked against what the host saw.

The guest's word is necessary but not sufficient. A test passes only if the guest reported
PASS for it, the kernel console shows no splat, sched_ext did not throw the scheduler out,
the result stream was intact, and the guest powered off on its own. Every other ending is a
verdict with evidence; nothing is dropped. Each thing that went wrong is also recorded as
a Finding, the unit known failures are matched on (ktstr/host/expectations.py).
"""

from __future__ import annotations

from typing import Sequence

from ktstr.host.console_scan import find_scx_exits, find_splats, split_by_test
from ktstr.host.engines import BootResult, ExitKind
from ktstr.host.outcome import Finding, Splat, TestOutcome
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
        outcome = TestOutcome(
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
            not_checked=list(result.not_checked),
        )
        outcome.findings = _guest_findings(outcome)
        return outcome
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
    kind = {ExitKind.TIMEOUT: "timeout", ExitKind.CRASH: "crash", ExitKind.ENGINE_ERROR: "engine"}.get(
        boot.exit_kind, "agent" if guest.agent_error else "no_result")
    return TestOutcome(name=name, verdict=verdict, reason=reason, findings=[Finding(kind, reason, verdict)])


def _guest_findings(outcome: TestOutcome) -> list[Finding]:
    """The guest's failures, one finding each: every failure detail (a failed claim's detail
    is that claim's finding), every failed claim no detail names, else its reason."""
    if outcome.verdict == Status.INCONCLUSIVE:
        return [Finding("guest", outcome.reason, Status.INCONCLUSIVE)]
    if outcome.verdict != Status.FAIL:
        return []
    claims = [c.text() for c in outcome.failed_claims]
    ejected = ([Finding("sched_ext_exit", f"sched_ext: {outcome.sched_ext_exit}", evidence=outcome.sched_ext_dump)]
               if outcome.sched_ext_exit else [])
    found = [Finding("claim" if any(c in d for c in claims) else "guest", d) for d in outcome.details]
    found += [Finding("claim", f"claim failed: {c}") for c in claims if not any(c in d for d in outcome.details)]
    if not found:
        return ejected + [Finding("guest", outcome.reason)]
    if not any(outcome.reason in f.text for f in found):
        # The reason may say more than the details (the scheduler's exit appended to it).
        found[0].evidence = outcome.reason
    return ejected + found


def _apply_topology(outcome: TestOutcome, wanted: str, seen: str) -> None:
    if not wanted or not seen or wanted == seen:
        return
    note = (f"the guest saw topology {seen} in sysfs, not the {wanted} asked for: the engine "
            f"or the kernel did not build it, so the test says nothing about {wanted}")
    outcome.details.append(note)
    outcome.findings.append(Finding("topology", note))
    if outcome.verdict in (Status.PASS, Status.SKIP):
        outcome.verdict = Status.FAIL
        outcome.reason = note


def _apply_splats(outcome: TestOutcome, splats: list[Splat]) -> None:
    if not splats:
        return
    outcome.splats = list(splats)
    outcome.findings += [Finding("splat", f"kernel {s.kind}: {s.line}", evidence="\n".join(s.context))
                         for s in splats]
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
    if not any(f.kind == "sched_ext_exit" for f in outcome.findings):  # the guest may have said it
        outcome.findings.append(Finding("sched_ext_exit", f"sched_ext: {ex.text()}",
                                        evidence=outcome.sched_ext_dump))
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
    # One finding: a corrupt stream is one fact about the boot, however many parts it broke
    # into (planted garbage shows up as "garbage before a frame" and "bad CRC in frame").
    outcome.findings.append(Finding("stream", f"result stream had {len(errors)} corrupt part(s): "
                                    f"{'; '.join(errors)}", Status.INCONCLUSIVE))
    if outcome.verdict == Status.PASS:
        outcome.verdict = Status.INCONCLUSIVE
        outcome.reason = f"result stream had {len(errors)} corrupt frame(s): {errors[0]}"


def _apply_unclean_end(outcome: TestOutcome, boot: BootResult, reported: bool) -> None:
    """A test that reported but whose VM then hung or crashed is not a clean pass."""
    if not reported or boot.exit_kind == ExitKind.POWEROFF:
        return
    note = f"after the results the guest did not power off: {boot.exit_kind.value} ({boot.exit_reason or boot.detail})"
    outcome.details.append(note)
    status = Status.INCONCLUSIVE if boot.exit_kind == ExitKind.ENGINE_ERROR else Status.FAIL
    outcome.findings.append(Finding("unclean_end", note, status))
    if outcome.verdict in (Status.PASS, Status.SKIP):
        outcome.verdict = status
        outcome.reason = note
