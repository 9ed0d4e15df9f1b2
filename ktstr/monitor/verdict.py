"""The monitor's word in the verdicts of one boot's tests.

A monitor failure fails the test it happened under, with the failure's message as the
reason when the test had no stronger one (the guest's own FAIL with its reason stays first;
the monitor's joins the details). A hung, crashed or stopped guest's tests get what each
CPU was running at the last sample. A monitor that could not run says so in the details and
changes no verdict.
"""

from __future__ import annotations

from typing import Sequence

from ktstr.wire.results import Finding, TestOutcome
from ktstr.wire.status import Status
from ktstr.monitor.boot import MonitorReport

# Reasons of outcomes that only say the guest ended early: a monitor verdict explains more.
_GENERIC = ("guest hung", "guest ended", "guest crashed")


def apply_monitor(outcomes: Sequence[TestOutcome], report: MonitorReport, vm_ended_early: bool,
                  picture: str = "") -> None:
    names = {o.name for o in outcomes}
    for o in outcomes:
        if report.status != "sampled":
            o.details.append(report.summary())
            continue
        mine = [f for f in report.failures if f.test == o.name
                or (not f.test and o is outcomes[0]) or (f.test and f.test not in names and o is outcomes[0])]
        for f in mine:
            head = f.message.split("; per-CPU state:")[0]
            o.details.append(f.message)
            o.findings.append(Finding("monitor", head, evidence=f.message))
            if o.verdict != Status.FAIL or o.reason.startswith(_GENERIC) or not o.reason:
                o.reason = head
            elif head not in o.reason:
                o.reason = f"{o.reason} [{head}]"
            o.verdict = Status.FAIL
        if vm_ended_early and report.samples:
            o.details.append(f"host monitor, last sample {report.last_state()}")
        if (mine or not o.verdict.ok) and picture:
            o.details.append(f"{report.summary()}; per-CPU timeline: {picture}")
