"""The boot loop: for each boot a payload plans, write its layer, boot it, judge it, cover known findings, record.

Every boot ends as verdicts for all of its tests, whatever happened to the VM. The request
(request.py), the plan and the guest's files (plan.py), what runs and how it is judged
(payloads.py) and the engines (engines/) live elsewhere; this module only sequences them.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from ktstr.host import children
from ktstr.host.children import CUT_SHORT, NOT_RUN
from ktstr.host.engines import BootResult, BootSpec, Engine, ExitKind, select_engine
from ktstr.host.expectations import judge
from ktstr.host.hooks import BootHook, BootWatch
from ktstr.host.outcome import Finding, TestOutcome
from ktstr.host.payloads import Scenarios
from ktstr.host.plan import DEFAULT_TOPOLOGY, PlannedBoot, run_config
from ktstr.host.plan import layer_files as scenario_layer_files
from ktstr.host.request import RunRequest
from ktstr.host.run_layer import write_run_layer
from ktstr.topology import Topology
from ktstr.wire.messages import GuestRun
from ktstr.wire.status import Status

# PYTHONHASHSEED reaches init's environment: the guest Python must not wait for the CRNG.
BASE_CMDLINE = ("console=ttyS0 reboot=t panic=-1 loglevel=5 printk.time=1 printk.devkmsg=on "
                "PYTHONHASHSEED=0")


@dataclass
class BootRecord:
    topology: str
    tests: list[str]
    result: BootResult
    console_log: Path
    result_log: Path
    guest: GuestRun
    monitor: str = ""  # the boot hook's (the host monitor's) one-line summary


@dataclass
class RunReport:
    suite: str
    engine: str
    outcomes: list[TestOutcome]
    boots: list[BootRecord] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def verdict(self) -> Status:
        v = Status.PASS
        for o in self.outcomes:
            v = v.worst(o.verdict)
        return v

    @property
    def ok(self) -> bool:
        return all(o.verdict.ok for o in self.outcomes)

    def console_tail(self, lines: int = 40) -> str:
        bad_boots = [b for b in self.boots if any(
            not o.verdict.ok for o in self.outcomes if o.name in b.tests)]
        boots = bad_boots or self.boots
        return boots[-1].result.console_tail_text(lines) if boots else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "engine": self.engine,
            "verdict": self.verdict.value,
            "wall_s": round(self.wall_s, 3),
            "boots": [{
                "topology": b.topology,
                "tests": b.tests,
                "exit_kind": b.result.exit_kind.value,
                "engine": b.result.engine,
                "wall_s": round(b.result.wall_s, 3),
                "detail": b.result.detail,
                "console_log": b.console_log.name,
                "result_stream": b.result_log.name,
                "stream_errors": b.guest.stream_errors,
                "protocol_errors": b.guest.protocol_errors,
                "agent_error": b.guest.agent_error,
                "monitor": b.monitor,
            } for b in self.boots],
            "tests": [o.to_json() for o in self.outcomes],
        }


def run(req: RunRequest, engine: Optional[Engine] = None, *, hook: Optional[BootHook]) -> RunReport:
    """`hook`: what watches each boot from the host (the monitor, ktstr.monitor.hook), given
    by the entry point; None for none. A required keyword, so no caller drops it unawares."""
    start = time.monotonic()
    if hook is not None:
        hook.check(req)  # bad options fail here, before any VM boots
    engine = engine or select_engine(req.engine, req.vmm_library, req.l1_host)
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
                (req.out_dir / o.scheduler_log_file).write_text(o.scheduler_output)
            if o.sched_ext_dump:
                (req.out_dir / o.dump_file).write_text(o.sched_ext_dump + "\n")
        report.outcomes += outcomes
        report.boots.append(BootRecord(boot.topology, [o.name for o in outcomes], result, spec.console_path,
                                       spec.result_path, guest, summary))
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
    from ktstr.host.engines import EngineSelectionError, requested_engine
    from ktstr.host.engines.qemu import QemuEngine

    name = requested_engine(req.engine)
    if name == "vmm":
        raise EngineSelectionError("the shell needs QEMU (the C VMM has no console input): use "
                                   "--engine qemu-kvm, qemu-tcg or auto")
    # auto means QEMU here: with KVM where KVM can boot Linux, TCG elsewhere.
    engine = select_engine("qemu" if name == "auto" else name)
    assert isinstance(engine, QemuEngine)
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


def write_sidecar(report: RunReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=1, sort_keys=True) + "\n")


__all__ = ["BASE_CMDLINE", "BootRecord", "RunReport", "RunRequest", "Scenarios", "run", "shell", "write_sidecar"]
