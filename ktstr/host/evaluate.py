"""Judge one VM run: the guest's own results, checked against what the host saw.

The guest's word is necessary but not sufficient. A test passes only if the guest reported
PASS for it, the kernel console shows no splat, sched_ext did not throw the scheduler out,
the result stream was intact, and the guest powered off on its own. Every other ending is a
verdict with evidence; nothing is dropped. Each thing that went wrong is also recorded as
a Finding, the unit known failures are matched on (ktstr/host/expectations.py).
"""

from __future__ import annotations

from typing import Sequence

from ktstr.host.children import CUT_SHORT
from ktstr.host.console_scan import ConsoleScan, scan_console
from ktstr.host.engines import BootResult, ExitKind
from ktstr.host.windows import TestWindows, frame_windows
from ktstr.wire.marks import ScxExit
from ktstr.wire.bounds import clip, clip_list
from ktstr.wire.messages import GuestRun
from ktstr.wire.results import Finding, Splat, TestOutcome
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


def _protocol_faults(expected: Sequence[str], boot: BootResult, guest: GuestRun) -> list[Finding]:
    """What the result stream says about the run as a whole: only the agent's RunEnd makes
    an ending clean (a power-off without it was not the agent's), and every result must be
    for a test asked for, started once and answered once."""
    # Kind "protocol": a cause that no expectation covers unless it names it; never taken for
    # the consequence of another finding (forged or lost frames are their own fact).
    faults = [Finding("protocol", f"result protocol: {e}") for e in guest.protocol_errors]
    asked = set(expected)
    unknown = [n for n in guest.started + [r for r in guest.results if r not in guest.started] if n not in asked]
    if unknown:
        more = f" (+{len(unknown) - 1} more)" if len(unknown) > 1 else ""
        faults.append(Finding("protocol", f"result protocol: a frame for test {clip(unknown[0], 200)!r} "
                              f"that was never asked for{more}"))
    # Only a power-off makes a missing RunEnd a fact of its own (something other than the
    # agent ended the run: a forger, a stray `poweroff`). A hang, a crash or a host stop
    # without RunEnd is already that ending's finding (timeout, crash, no result, unclean
    # end), and a boot the host cut short at the deadline has none by the host's doing.
    if not guest.finished and boot.exit_kind == ExitKind.POWEROFF:
        faults.append(Finding("protocol", "result protocol: no RunEnd from the agent, yet the guest powered "
                              "off (something other than the agent ended the run)"))
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


def _outside_findings(scan: ConsoleScan, windows: TestWindows) -> list[Finding]:
    """Splats and sched_ext errors in no test's window: they fail the run, named by where."""
    faults = []
    for at, splat in scan.splats:
        where = windows.outside(at)
        if where is not None:
            faults.append(Finding("splat", f"kernel {splat.kind} outside every test's window ({where}): "
                                  f"{splat.line}", evidence="\n".join(splat.context)))
    for at, ex in scan.scx_exits:
        where = windows.outside(at)
        if ex.is_error and where is not None:
            faults.append(Finding("sched_ext_exit", f"sched_ext outside every test's window ({where}): {ex.text()}"))
    return faults


def _apply_run_faults(outcome: TestOutcome, findings: list[Finding], reported: bool) -> None:
    """A fault of the whole run fails every test of it, and leads the reason of a test
    without a result (the fault says why there is none: forged frames, a lost frame); a test
    failed on its own keeps its reason and gets the fault in its details."""
    if not findings:
        return
    # Each test gets its own copy: judge() marks a finding known per test.
    outcome.findings += [Finding(f.kind, f.text, f.status, evidence=f.evidence) for f in findings]
    faults = [f.text for f in findings]
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
    elif _stopped_by_an_observer(boot) and name not in guest.started:
        # The host ended the VM on another test's finding (the monitor's stall verdict):
        # this test never ran, which proves nothing about it either way.
        verdict, reason = Status.INCONCLUSIVE, f"not run: the host stopped the VM before this test began ({why})"
    else:
        verdict, reason = Status.FAIL, (
            f"guest ended ({boot.exit_kind.value}) without a result for this test {where} it"
        )
    if guest.stream_errors:
        reason += f"; the result stream had corrupt part(s): {guest.stream_errors[0]}"
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
        outcome.reason = f"result stream had corrupt frame(s): {errors[0]}"


def _stopped_by_an_observer(boot: BootResult) -> bool:
    """Did a host-side observer (the monitor, on its own finding) stop this VM, rather than
    the runner's deadline (CUT_SHORT) or the guest itself?"""
    return boot.exit_kind == ExitKind.STOPPED and not boot.exit_reason.startswith(CUT_SHORT)


def _apply_unclean_end(outcome: TestOutcome, boot: BootResult, reported: bool) -> None:
    """A test that reported but whose VM then hung or crashed is not a clean pass."""
    if not reported or boot.exit_kind == ExitKind.POWEROFF:
        return
    if boot.exit_kind == ExitKind.STOPPED and boot.exit_reason.startswith(CUT_SHORT):
        return  # the host ran out of time after this test finished: its verdict stands
    if _stopped_by_an_observer(boot):
        # The host stopped the VM on a later test's finding (that test carries it): this
        # test had finished and reported, so its verdict stands.
        outcome.details.append(f"after this test's result the host stopped the VM: {boot.exit_reason}")
        return
    note = f"after the results the guest did not power off: {boot.exit_kind.value} ({boot.exit_reason or boot.detail})"
    outcome.details.append(note)
    status = Status.INCONCLUSIVE if boot.exit_kind == ExitKind.ENGINE_ERROR else Status.FAIL
    outcome.findings.append(Finding("unclean_end", note, status))
    if outcome.verdict in (Status.PASS, Status.SKIP):
        outcome.verdict = status
        outcome.reason = note
