"""The host monitor as the boot loop's hook (ktstr.host.hooks.BootHook): the runner reaches
the monitor only through that interface, and the entry point hands this hook in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ktstr.host.engines import BootResult, BootSpec
from ktstr.wire.results import TestOutcome
from ktstr.host.jobs import Scenarios
from ktstr.host.plan import PlannedBoot
from ktstr.host.request import RunRequest
from ktstr.monitor.run import MonitorPlan, finish, plan, thresholds_resolver


@dataclass
class _MonitorWatch:
    plan: MonitorPlan

    def finish(self, outcomes: list[TestOutcome], result: BootResult, out_dir: Path, suffix: str) -> str:
        report = finish(self.plan, [o.name for o in outcomes], outcomes, result, out_dir, suffix)
        return report.summary() if report is not None else ""


class MonitorHook:
    def check(self, req: RunRequest) -> None:
        # Bad monitor options (MonitorConfigError) fail before any VM boots.
        tests = req.payload.tests if isinstance(req.payload, Scenarios) else []
        thresholds_resolver(req.monitor, tests, req.suite)

    def start(self, req: RunRequest, boot: PlannedBoot, spec: BootSpec,
              emulated: bool) -> tuple[BootSpec, _MonitorWatch]:
        spec, p = plan(spec, req.kernel_layout, req.monitor, boot.tests, req.suite, emulated)
        return spec, _MonitorWatch(p)
