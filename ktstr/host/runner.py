"""Run ktstr tests in VMs: plan boots, build the per-run layer, boot, decode, judge, record.

One VM boots per distinct topology among the selected tests (tests sharing a topology share
a VM: a boot costs ~2 s under TCG, a scenario 1-2 s). Every boot ends as verdicts for all of
its tests, whatever happened to the VM.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from ktstr.host import guest_messages
from ktstr.host.engines import BootResult, BootSpec, Engine, ExitKind, select_engine
from ktstr.host.evaluate import GuestRun, apply_expectation, evaluate
from ktstr.host.result_stream import split_frames
from ktstr.host.run_layer import LayerFile, library_files, write_run_layer
from ktstr.host.test_listing import DeclaredTest
from ktstr.host.verdict import TestOutcome, Verdict
from ktstr.topology import Topology

# PYTHONHASHSEED reaches init's environment: the guest Python must not wait for the CRNG.
BASE_CMDLINE = ("console=ttyS0 reboot=t panic=-1 loglevel=5 printk.time=1 printk.devkmsg=on "
                "PYTHONHASHSEED=0")
GUEST_TEST_DIR = "ktstr/tests"
GUEST_SCHED_DIR = "ktstr/sched"
DEFAULT_TOPOLOGY = "1n1l2c1t"


@dataclass(frozen=True)
class SchedulerSpec:
    name: str  # "eevdf" when binary is None
    binary: Optional[Path]
    args: tuple[str, ...] = ()
    ops_name: str = ""
    runtime_files: tuple[Path, ...] = ()


EEVDF = SchedulerSpec(name="eevdf", binary=None)


@dataclass
class RunRequest:
    suite: str
    kernel: Path
    initrds: list[Path]
    tests: list[DeclaredTest]
    scheduler: SchedulerSpec = EEVDF
    topology: str = ""  # "" = each test's own (decorator), else DEFAULT_TOPOLOGY
    memory_mib: int = 1024
    duration_s: Optional[float] = None
    timeout_s: float = 120.0
    cmdline_extra: str = ""
    engine: Optional[str] = None
    expect_fail: str = ""
    may_fail: tuple[str, ...] = ()  # known intermittent failures' texts: such a FAIL counts as PASS
    # A program to run instead of Python scenarios (the upstream sched_ext selftests
    # runner): its binary and argv tail; its output on the console is judged per selftest.
    selftests_runner: Optional[Path] = None
    selftests_args: tuple[str, ...] = ()
    out_dir: Path = Path("ktstr-out")
    work_dir: Path = Path("ktstr-work")
    stream_console: bool = False


@dataclass
class BootRecord:
    topology: str
    tests: list[str]
    result: BootResult
    console_log: Path
    result_log: Path
    guest: GuestRun


@dataclass
class RunReport:
    suite: str
    engine: str
    outcomes: list[TestOutcome]
    boots: list[BootRecord] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def verdict(self) -> Verdict:
        v = Verdict.PASS
        for o in self.outcomes:
            v = v.worst(o.verdict)
        return v

    @property
    def ok(self) -> bool:
        return all(o.verdict.ok for o in self.outcomes)

    def console_tail(self, lines: int = 40) -> str:
        bad_boots = [b for b in self.boots if any(
            not o.verdict.ok for o in self.outcomes if o.name in b.tests)]
        boot = (bad_boots or self.boots or [None])[-1]
        return boot.result.console_tail_text(lines) if boot else ""

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
                "agent_error": b.guest.agent_error,
            } for b in self.boots],
            "tests": [o.to_json() for o in self.outcomes],
        }


def plan_boots(tests: Sequence[DeclaredTest], topology_override: str) -> list[tuple[str, list[DeclaredTest]]]:
    """Group tests by the topology they run on, in first-seen order (deterministic)."""
    groups: dict[str, list[DeclaredTest]] = {}
    for t in tests:
        topo = topology_override or t.topology_string() or DEFAULT_TOPOLOGY
        groups.setdefault(str(Topology.parse(topo)), []).append(t)
    return list(groups.items())


def _guest_path(src: Path) -> str:
    return f"{GUEST_TEST_DIR}/{src.name}"


def run_config(req: RunRequest, topology: str, tests: Sequence[DeclaredTest],
               emulated: bool = True) -> dict[str, Any]:
    """The /ktstr/run.json the guest agent reads. `emulated`: the engine emulates the CPU
    (QEMU TCG), so the default checks use their looser limits."""
    sched = req.scheduler
    return {
        "version": 1,
        "emulated": emulated,
        "suite": req.suite,
        "topology": topology,
        "duration_s": req.duration_s,
        "tests": [{"name": t.name, "file": "/" + _guest_path(t.source)} for t in tests],
        "scheduler": None if sched.binary is None else {
            "name": sched.name,
            "binary": f"/{GUEST_SCHED_DIR}/{sched.binary.name}",
            "args": list(sched.args),
            "ops_name": sched.ops_name,
        },
        "result_port": "/dev/ttyS1",
    }


def _layer_files(req: RunRequest, tests: Sequence[DeclaredTest]) -> list[LayerFile]:
    files = {}
    for t in tests:
        files[_guest_path(t.source)] = LayerFile(_guest_path(t.source), t.source.read_bytes())
    sched = req.scheduler
    if sched.binary is not None:
        files["sched"] = LayerFile(f"{GUEST_SCHED_DIR}/{sched.binary.name}", sched.binary.read_bytes(), 0o755)
        for extra in sched.runtime_files:
            files[str(extra)] = LayerFile(f"{GUEST_SCHED_DIR}/{extra.name}", extra.read_bytes(), 0o755)
        # The loader's shared libraries (libelf, libz, ...) at their host paths.
        return list(files.values()) + library_files([sched.binary])
    return list(files.values())


def run(req: RunRequest, engine: Optional[Engine] = None) -> RunReport:
    start = time.monotonic()
    engine = engine or select_engine(req.engine)
    req.out_dir.mkdir(parents=True, exist_ok=True)
    req.work_dir.mkdir(parents=True, exist_ok=True)
    if req.selftests_runner is not None:
        return _run_selftests(req, engine, start)
    plan = plan_boots(req.tests, req.topology)
    report = RunReport(suite=req.suite, engine=engine.name, outcomes=[])
    for index, (topology, tests) in enumerate(plan):
        suffix = "" if len(plan) == 1 else f"-{index}-{topology}"
        boot_dir = req.work_dir / f"boot{index}"
        layer = write_run_layer(boot_dir / "run-layer.cpio",
                                run_config(req, topology, tests, emulated=engine.name == "qemu-tcg"),
                                _layer_files(req, tests))
        spec = _boot_spec(req, topology, tuple(req.initrds) + (layer,), suffix, boot_dir)
        boot = engine.run(spec)
        guest = decode(boot.result_stream)
        names = [t.name for t in tests]
        outcomes = evaluate(names, boot, guest, topology)
        for o in outcomes:
            apply_expectation(o, req.expect_fail, req.may_fail)
            if o.scheduler_output:
                (req.out_dir / f"scheduler-{o.name}.log").write_text(o.scheduler_output)
            if o.sched_ext_dump:
                (req.out_dir / f"sched_ext_dump-{o.name}.txt").write_text(o.sched_ext_dump + "\n")
        report.outcomes += outcomes
        report.boots.append(BootRecord(topology, names, boot, spec.console_path, spec.result_path, guest))
    report.wall_s = time.monotonic() - start
    return report


def shell(req: RunRequest, term: str = "vt100") -> int:
    """Boot the VM a test of `req` would get (kernel, initramfs, topology, scheduler) with an
    interactive shell on this terminal instead of tests. QEMU only: the C VMM has no console
    input. Returns QEMU's exit status."""
    from ktstr.host.engines import EngineSelectionError, requested_engine

    name = requested_engine(req.engine)
    if name == "vmm":
        raise EngineSelectionError("the shell needs QEMU (the C VMM has no console input): use "
                                   "--engine qemu-kvm, qemu-tcg or auto")
    # auto means QEMU here: with KVM where KVM can boot Linux, TCG elsewhere.
    engine = select_engine("qemu" if name == "auto" else name)
    topology = str(Topology.parse(req.topology or DEFAULT_TOPOLOGY))
    boot_dir = req.work_dir / "shell"
    config = {**run_config(req, topology, []), "mode": "shell", "term": term}
    layer = write_run_layer(boot_dir / "run-layer.cpio", config, _layer_files(req, []))
    spec = _boot_spec(req, topology, tuple(req.initrds) + (layer,), "", boot_dir)
    return engine.interactive(spec)


def _boot_spec(req: RunRequest, topology: str, initrds: tuple[Path, ...], suffix: str, boot_dir: Path) -> BootSpec:
    return BootSpec(
        kernel=req.kernel,
        initrds=initrds,
        cmdline=f"{BASE_CMDLINE} {req.cmdline_extra}".strip(),
        topology=Topology.parse(topology),
        memory_mib=req.memory_mib,
        timeout_s=req.timeout_s,
        console_path=req.out_dir / f"console{suffix}.log",
        result_path=req.out_dir / f"result-stream{suffix}.bin",
        work_dir=boot_dir,
        on_console=(lambda b: (sys.stderr.buffer.write(b), sys.stderr.flush())) if req.stream_console else None,
    )


def _run_selftests(req: RunRequest, engine: Engine, start: float) -> RunReport:
    from ktstr.host.command_layer import command_layer
    from ktstr.host.run_layer import cpio_newc
    from ktstr.host.selftests import evaluate_selftests

    boot_dir = req.work_dir / "boot0"
    boot_dir.mkdir(parents=True, exist_ok=True)
    layer = boot_dir / "selftests-layer.cpio"
    layer.write_bytes(cpio_newc(command_layer(req.selftests_runner, req.selftests_args)))
    topology = req.topology or DEFAULT_TOPOLOGY
    spec = _boot_spec(req, topology, tuple(req.initrds) + (layer,), "", boot_dir)
    boot = engine.run(spec)
    outcomes = evaluate_selftests(boot)
    report = RunReport(suite=req.suite, engine=engine.name, outcomes=outcomes)
    report.boots.append(BootRecord(topology, [o.name for o in outcomes], boot, spec.console_path,
                                   spec.result_path, GuestRun()))
    report.wall_s = time.monotonic() - start
    return report


def decode(stream: bytes) -> GuestRun:
    frames, errors = split_frames(stream)
    guest = guest_messages.to_guest_run(frames)
    guest.stream_errors = errors + guest.stream_errors
    return guest


def write_sidecar(report: RunReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=1, sort_keys=True) + "\n")
