"""Judge one VM run: the guest's own results, checked against what the host saw.

The guest's word is necessary but not sufficient. A test passes only if the guest reported
PASS for it, the kernel console shows no splat, sched_ext did not throw the scheduler out,
the result stream was intact, and the guest powered off on its own. Every other ending is a
verdict with evidence; nothing is dropped.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ktstr.host.console_scan import ConsoleScan, scan_console
from ktstr.host.engines import BootResult, ExitKind
from ktstr.host.outcome import Splat, TestOutcome
from ktstr.host.windows import TestWindows, frame_windows
from ktstr.wire.marks import ScxExit
from ktstr.wire.bounds import clip, clip_list
from ktstr.wire.messages import GuestRun
from ktstr.wire.status import Status


def evaluate(expected: Sequence[str], boot: BootResult, guest: GuestRun,
             topology: str = "") -> list[TestOutcome]:
    """`topology`: the shape asked for; a guest that saw another one proves nothing about it."""
    # Tests sharing a VM are judged on their own part of the console, cut by the agent's
    # frames: a scheduler thrown out during the second test is the second test's failure.
    scan = boot.console_scan if boot.console_scan is not None else scan_console(boot.console_tail)
    windows = frame_windows(guest, boot.stream_clock, scan.total_bytes, boot.console_scan is not None)
    faults = _protocol_faults(expected, boot, guest) + _outside_findings(scan, windows)
    outcomes = []
    for name in expected:
        outcome = _base_outcome(name, boot, guest)
        _apply_topology(outcome, topology, guest.topology)
        _apply_splats(outcome, [s for at, s in scan.splats if windows.holds(name, at)])
        _apply_scx_exit(outcome, [e for at, e in scan.scx_exits if e.is_error and windows.holds(name, at)])
        _apply_run_faults(outcome, faults, name in guest.results)
        _apply_stream_errors(outcome, guest.stream_errors)
        _apply_unclean_end(outcome, boot, name in guest.results)
        bound_outcome(outcome)
        outcomes.append(outcome)
    return outcomes


def _protocol_faults(expected: Sequence[str], boot: BootResult, guest: GuestRun) -> list[str]:
    """What the result stream says about the run as a whole: only the agent's RunEnd makes
    an ending clean (a power-off without it was not the agent's), and every result must be
    for a test asked for, started once and answered once."""
    faults = [f"result protocol: {e}" for e in guest.protocol_errors]
    asked = set(expected)
    unknown = [n for n in guest.started + [r for r in guest.results if r not in guest.started] if n not in asked]
    if unknown:
        more = f" (+{len(unknown) - 1} more)" if len(unknown) > 1 else ""
        faults.append(f"result protocol: a frame for test {clip(unknown[0], 200)!r} that was never asked for{more}")
    if not guest.finished and boot.exit_kind != ExitKind.ENGINE_ERROR:
        if boot.exit_kind == ExitKind.POWEROFF:
            faults.append("result protocol: no RunEnd from the agent, yet the guest powered off "
                          "(something other than the agent ended the run)")
        else:
            faults.append(f"result protocol: no RunEnd from the agent (the guest ended: {boot.exit_kind.value})")
    return faults


def bound_outcome(outcome: TestOutcome) -> None:
    """What a test's report holds of guest text, at most: a screenful of details, a short
    reason; a flooding guest costs the report a few lines."""
    outcome.reason = clip(outcome.reason, 2000)
    outcome.details = clip_list(outcome.details, 40, 400)
    outcome.failed_claims = outcome.failed_claims[:100]
    outcome.splats = outcome.splats[:20]
    outcome.scheduler_output = clip(outcome.scheduler_output, 64 * 1024)
    outcome.sched_ext_dump = clip(outcome.sched_ext_dump, 256 * 1024)


def _outside_findings(scan: ConsoleScan, windows: TestWindows) -> list[str]:
    """Splats and sched_ext errors in no test's window: they fail the run, named by where."""
    faults = []
    for at, splat in scan.splats:
        where = windows.outside(at)
        if where is not None:
            faults.append(f"kernel {splat.kind} outside every test's window ({where}): {splat.line}")
    for at, ex in scan.scx_exits:
        where = windows.outside(at)
        if ex.is_error and where is not None:
            faults.append(f"sched_ext outside every test's window ({where}): {ex.text()}")
    return faults


def _apply_run_faults(outcome: TestOutcome, faults: list[str], reported: bool) -> None:
    """A fault of the whole run fails every test of it, and leads the reason of a test
    without a result (the fault says why there is none: forged frames, a lost frame); a test
    failed on its own keeps its reason and gets the fault in its details."""
    if not faults:
        return
    outcome.details += faults
    more = f" (+{len(faults) - 1} more run fault(s))" if len(faults) > 1 else ""
    if outcome.verdict != Status.FAIL:
        was = f"; guest said {outcome.verdict.value}: {outcome.reason}" if outcome.reason else ""
        outcome.verdict = Status.FAIL
        outcome.reason = f"{faults[0]}{more}{was}"
    elif not reported:
        outcome.reason = f"{faults[0]}{more}; {outcome.reason}"


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
        reason += f"; the result stream had corrupt part(s): {guest.stream_errors[0]}"
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
        outcome.reason = f"result stream had corrupt frame(s): {errors[0]}"


def _apply_unclean_end(outcome: TestOutcome, boot: BootResult, reported: bool) -> None:
    """A test that reported but whose VM then hung or crashed is not a clean pass."""
    if not reported or boot.exit_kind == ExitKind.POWEROFF:
        return
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
