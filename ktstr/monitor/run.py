"""The runner's two hooks: set a monitor up for a boot, and turn its report into files and
verdict evidence afterwards."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from ktstr.host.engines import BootResult, BootSpec, ExitKind
from ktstr.monitor.boot import BootMonitor, MonitorReport, skipped
from ktstr.monitor.thresholds import MonitorThresholds
from ktstr.monitor.layout import KernelLayout, LayoutError
from ktstr.monitor.plot import timeline_png
from ktstr.monitor.verdict import apply_monitor
from ktstr.wire.results import TestOutcome


@dataclass
class MonitorPlan:
    monitor: Optional[BootMonitor]
    report_if_none: Optional[MonitorReport]  # why there is no monitor (stated in the outcomes)
    # The tests' thresholds: their switched-off checks go into the report as not checked.
    thresholds_for: Optional[Callable[[str], MonitorThresholds]] = None


def thresholds_resolver(target_options: Mapping[str, Any], tests: Sequence[Any], suite: str):
    """test name -> thresholds: defaults, then the target's `monitor` attribute, then the
    test decorator's `monitor={...}`. Bad names or values raise MonitorConfigError up front."""
    base = MonitorThresholds().merged(target_options, f"monitor attribute of {suite}")
    per_test = {t.name: base.merged(t.options.get("monitor"), f"@ktstr_test(monitor=...) of {t.name}")
                for t in tests}
    return lambda name: per_test.get(name, base), per_test


def plan(spec: BootSpec, layout_path: Optional[Path], target_options: Mapping[str, Any],
         tests: Sequence[Any], suite: str, emulated: bool) -> tuple[BootSpec, MonitorPlan]:
    """The boot spec to run (with the observer, and nokaslr for a KASLR kernel) and the plan."""
    resolve, per_test = thresholds_resolver(target_options, tests, suite)
    if per_test and not any(th.enabled for th in per_test.values()):
        return spec, MonitorPlan(None, None, resolve)  # switched off: its reason is reported
    if layout_path is None:
        return spec, MonitorPlan(None, skipped("no kernel layout given (a ktstr_kernel target provides "
                                               "layout.json; ktstr run takes --kernel-layout)"), resolve)
    try:
        layout = KernelLayout.load(layout_path)
    except LayoutError as exc:
        return spec, MonitorPlan(None, skipped(str(exc)), resolve)
    t = spec.topology
    nr_cpus = t.llcs * t.cores_per_llc * t.threads_per_core
    mon = BootMonitor(layout, nr_cpus, resolve, emulated)
    cmdline = f"{spec.cmdline} nokaslr" if layout.kaslr and "nokaslr" not in spec.cmdline else spec.cmdline
    shown = spec.on_console

    def on_console(data: bytes) -> None:  # the console's bytes reach the marks as they arrive
        mon.marks.feed(data)
        if shown is not None:
            shown(data)

    return replace(spec, observer=mon, cmdline=cmdline, on_console=on_console), MonitorPlan(mon, None, resolve)


def finish(p: MonitorPlan, names: list[str], outcomes: Sequence[TestOutcome], boot: BootResult,
           out_dir: Path, suffix: str) -> Optional[MonitorReport]:
    """Write monitor{suffix}.json and timeline{suffix}.png, and put the monitor's verdict and
    evidence into the outcomes. Returns the report (None: monitor switched off)."""
    if p.thresholds_for is not None:
        for o in outcomes:
            o.not_checked += [f"host monitor {k}: {why}" for k, why in p.thresholds_for(o.name).unchecked]
    if p.monitor is None:
        if p.report_if_none is not None:
            apply_monitor(outcomes, p.report_if_none, False)
        return p.report_if_none
    report = p.monitor.report(names)
    json_path = out_dir / f"monitor{suffix}.json"
    report.write(json_path)
    picture = ""
    if report.samples:
        png = out_dir / f"timeline{suffix}.png"
        stop = (report.samples[-1].t, "stopped") if report.stopped_vm else None
        why_not = timeline_png(report.samples, png, f"{', '.join(names)} ({boot.engine})",
                               report.marks, stop)
        picture = png.name if why_not is None else ""
        if why_not:
            report.reason = f"{report.reason}; no timeline picture: {why_not}".lstrip("; ")
    early = boot.exit_kind in (ExitKind.TIMEOUT, ExitKind.CRASH, ExitKind.STOPPED)
    apply_monitor(outcomes, report, early, picture)
    return report
