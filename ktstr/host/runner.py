"""The boot loop: for each boot a payload plans, write its layer, boot it, judge it, cover known findings, record.

Every boot ends as verdicts for all of its tests, whatever happened to the VM. The request
(request.py), the plan and the guest's files (plan.py), what runs and how it is judged
(jobs.py) and the engines (engines/) live elsewhere; this module only sequences them.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

from ktstr.host import children
from ktstr.host.children import CUT_SHORT, NOT_RUN
from ktstr.host.engines import BootResult, BootSpec, Engine, ExitKind
from ktstr.host.expectations import judge
from ktstr.host.hooks import BootHook, BootWatch
from ktstr.host.jobs import Scenarios
from ktstr.host.plan import PlannedBoot, run_config
from ktstr.host.plan import layer_files as scenario_layer_files
from ktstr.host.report import dump_file, scheduler_log_file
from ktstr.host.request import RunRequest
from ktstr.host.run_layer import write_run_layer
from ktstr.topology import Topology
from ktstr.wire.defaults import DEFAULT_TOPOLOGY
from ktstr.wire.messages import GuestRun
from ktstr.wire.results import BootRecord, Finding, RunReport, TestOutcome
from ktstr.wire.status import Status

# PYTHONHASHSEED reaches init's environment: the guest Python must not wait for the CRNG.
BASE_CMDLINE = ("console=ttyS0 reboot=t panic=-1 loglevel=5 printk.time=1 printk.devkmsg=on "
                "PYTHONHASHSEED=0")


def run(req: RunRequest, engine: Optional[Engine] = None, *, hook: Optional[BootHook]) -> RunReport:
    """`hook`: what watches each boot from the host (the monitor, ktstr.monitor.hook), given
    by the entry point; None for none. A required keyword, so no caller drops it unawares."""
    start = time.monotonic()
    if hook is not None:
        hook.check(req)  # bad options fail here, before any VM boots
    engine = engine or req.engine.select()
    req.out_dir.mkdir(parents=True, exist_ok=True)
    req.work_dir.mkdir(parents=True, exist_ok=True)
    plan = req.payload.plan(req.topology)
    report = RunReport(suite=req.suite, engine=engine.name, outcomes=[])
    for index, boot in enumerate(plan):
        suffix = "" if len(plan) == 1 else f"-{index}-{boot.topology}" + (
            f"-{boot.memory_mib}mib" if boot.memory_mib else "")
        timeout_s, why_not = boot_time(req)
        if why_not:
            report.outcomes += not_run(boot, why_not)
            continue
        boot_dir = req.work_dir / f"boot{index}"
        layer = req.payload.write_layer(boot_dir, boot, req.suite, engine.emulated)
        spec = boot_spec(req, boot.topology, (*req.initrds, layer), suffix, boot_dir, boot.memory_mib, timeout_s)
        watch: Optional[BootWatch] = None
        if hook is not None:
            spec, watch = hook.start(req, boot, spec, engine.emulated)
        result = engine.run(spec)
        cut = children.stop_reason()
        if not cut and timeout_s < req.timeout_s and result.exit_kind == ExitKind.TIMEOUT:
            # The guest did not hang: the runner gave it only what was left of the test's time.
            cut = f"{CUT_SHORT}: out of time ({timeout_s:g} s left of {req.deadline_why})"
        if cut:
            result = replace(result, exit_kind=ExitKind.STOPPED, exit_reason=cut)
        outcomes, guest = req.payload.judge(boot, result)
        if cut:
            _mark_unfinished(outcomes, guest, cut)
        summary = watch.finish(outcomes, result, req.out_dir, suffix) if watch is not None else ""
        for o in outcomes:
            judge(o, req.expectations)
            if o.scheduler_output:
                (req.out_dir / scheduler_log_file(o)).write_text(o.scheduler_output)
            if o.sched_ext_dump:
                (req.out_dir / dump_file(o)).write_text(o.sched_ext_dump + "\n")
        report.outcomes += outcomes
        report.boots.append(boot_record(boot.topology, [o.name for o in outcomes], result, spec, guest, summary))
    report.wall_s = time.monotonic() - start
    return report


# A boot is not started with less time than this left before the test's deadline: it could
# not finish (a TCG boot alone takes about 2 s) and would only turn "not run" into a timeout.
MIN_BOOT_S = 10.0


def boot_time(req: RunRequest) -> tuple[float, str]:
    """The next boot's timeout, or why it must not start ("" when it may)."""
    if children.stop_reason():
        return 0.0, f"{NOT_RUN} ({children.stop_reason()})"
    if req.deadline is None:
        return req.timeout_s, ""
    left = req.deadline - time.monotonic()
    if left < min(MIN_BOOT_S, req.timeout_s):
        return 0.0, f"{NOT_RUN} ({max(left, 0.0):.1f} s left of {req.deadline_why})"
    return min(req.timeout_s, left), ""


def not_run(boot: PlannedBoot, why: str) -> list[TestOutcome]:
    """The verdicts of a boot that never started: INCONCLUSIVE, never a silent gap."""
    names = [t.name for t in boot.tests] or ["run"]
    return [TestOutcome(name, Status.INCONCLUSIVE, why) for name in names]


def _mark_unfinished(outcomes: list[TestOutcome], guest: GuestRun, why: str) -> None:
    """A boot the host cut short: the tests the guest finished keep their verdicts, the
    others are INCONCLUSIVE (the host, not the guest, ended them)."""
    for o in outcomes:
        if o.name not in guest.results:
            o.verdict = Status.INCONCLUSIVE
            o.reason = f"not finished: {why}"
            # The host ended it: one INCONCLUSIVE finding, which no expectation turns into a
            # FAIL or a PASS (the missing result is not the guest's).
            o.findings = [Finding("engine", o.reason, Status.INCONCLUSIVE)]


def shell(req: RunRequest, term: str = "vt100") -> int:
    """Boot the VM a test of `req` would get (kernel, initramfs, topology, scheduler) with an
    interactive shell on this terminal instead of tests. QEMU only: the C VMM has no console
    input. Returns QEMU's exit status."""
    # auto means QEMU here: with KVM where KVM can boot Linux, TCG elsewhere (EngineSpec).
    engine = req.engine.interactive()
    topology = str(Topology.parse(req.topology or DEFAULT_TOPOLOGY))
    boot_dir = req.work_dir / "shell"
    config = replace(run_config(req.suite, topology, [], req.scheduler, emulated=engine.emulated),
                     mode="shell", term=term)
    layer = write_run_layer(boot_dir / "run-layer.cpio", config.to_json(), scenario_layer_files([], req.scheduler))
    spec = boot_spec(req, topology, (*req.initrds, layer), "", boot_dir)
    return engine.interactive(spec)


def boot_spec(req: RunRequest, topology: str, initrds: tuple[Path, ...], suffix: str, boot_dir: Path,
              memory_mib: Optional[int] = None, timeout_s: Optional[float] = None) -> BootSpec:
    """memory_mib: the boot's tests' own (their decorator's); None: the request's.
    timeout_s: what is left of the test's time when less than the request's."""
    return BootSpec(
        kernel=req.kernel,
        initrds=initrds,
        cmdline=f"{BASE_CMDLINE} {req.cmdline_extra}".strip(),
        topology=Topology.parse(topology),
        memory_mib=memory_mib or req.memory_for(topology),
        timeout_s=timeout_s or req.timeout_s,
        console_path=req.out_dir / f"console{suffix}.log",
        result_path=req.out_dir / f"result-stream{suffix}.bin",
        work_dir=boot_dir,
        on_console=req.console_sink or (_stream_to_stderr if req.stream_console else None),
    )


def _stream_to_stderr(data: bytes) -> None:
    sys.stderr.buffer.write(data)
    sys.stderr.flush()


def boot_record(topology: str, tests: list[str], result: BootResult, spec: BootSpec, guest: GuestRun,
                monitor: str = "") -> BootRecord:
    """What result.json keeps of a boot (ktstr.wire.results)."""
    return BootRecord(topology=topology, tests=tests, exit_kind=result.exit_kind.value, engine=result.engine,
                      wall_s=result.wall_s, detail=result.detail, console_log=spec.console_path.name,
                      result_stream=spec.result_path.name, stream_errors=guest.stream_errors,
                      protocol_errors=guest.protocol_errors, agent_error=guest.agent_error, monitor=monitor)


__all__ = ["BASE_CMDLINE", "RunRequest", "Scenarios", "boot_record", "run", "shell"]
