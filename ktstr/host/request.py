"""The run request: everything one `ktstr run` or one Bazel ktstr_test asks for, built in
one place with one set of defaults, from the Bazel test config or from the command line.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ktstr.errors import KtstrError
from ktstr.host.discovery import list_all, select
from ktstr.host.engines import EngineOptions
from ktstr.host.engines.vmm_nested import L1Host
from ktstr.host.expectations import Expectation, expect_fail, may_fail
from ktstr.host.jobs import Command, GuestJob, Scenarios
from ktstr.topology import Topology
from ktstr.wire.run_config import EEVDF, GuestOptions, SchedulerSpec

# Of Bazel's $TEST_TIMEOUT, what the runner keeps for itself after the last boot: judging,
# result.json, test.xml (measured well under 1 s) and Python's start before the request
# exists (about 1 s), with room to spare on a loaded machine.
TEST_TIMEOUT_RESERVE_S = 10.0
TEST_TIMEOUT_RESERVE_FRACTION = 0.05


class RequestError(KtstrError, ValueError):
    """The run's configuration or environment cannot be used as given."""


@dataclass
class RunRequest:
    suite: str
    kernel: Path
    initrds: list[Path]
    payload: GuestJob  # Scenarios, Command, or any GuestJob (ktstr.verifier.cell.VerifierCells)
    topology: str = ""  # "" = each test's own (decorator), else plan.DEFAULT_TOPOLOGY
    # None/0: the payload's job defaults (ktstr.wire.defaults), per boot's topology
    memory_mib: Optional[int] = None
    timeout_s: float = 0.0  # per boot; 0: the payload's job default (ktstr.wire.defaults)
    cmdline_extra: str = ""
    engine: EngineOptions = EngineOptions()
    # Known failures, matched per finding (ktstr/host/expectations.py): expect_fail,
    # may_fail and the suites' known/intermittent failures all arrive as these.
    expectations: tuple[Expectation, ...] = ()
    out_dir: Path = Path("ktstr-out")
    work_dir: Path = Path("ktstr-work")
    stream_console: bool = False  # the whole console to stderr as it arrives
    # Or this, given the console bytes as they arrive (the one-liner's display).
    console_sink: Optional[Callable[[bytes], None]] = field(default=None, compare=False)
    # The host monitor: the kernel's layout.json (None: no monitor, said in the details) and
    # the target's option overrides (docs/monitor.md).
    kernel_layout: Optional[Path] = None
    monitor: dict[str, Any] = field(default_factory=dict)
    # Every boot must end by this time.monotonic() (None: no limit); from $TEST_TIMEOUT.
    deadline: Optional[float] = None
    deadline_why: str = ""  # the limit's own words, for "not run: out of time (...)"

    def __post_init__(self) -> None:
        # One default per job kind, resolved here whoever built the request.
        self.timeout_s = self.timeout_s or self.payload.JOB.vm_timeout_s

    def memory_for(self, topology: str) -> int:
        return self.memory_mib or self.payload.JOB.memory_for(Topology.parse(topology).cpus)

    @property
    def scheduler(self) -> SchedulerSpec:
        # Scenarios and Exec attach one; the other payloads run without (EEVDF).
        return getattr(self.payload, "scheduler", EEVDF)

    @classmethod
    def from_bazel_config(cls, cfg: dict[str, Any], env: dict[str, str],
                          payload: Optional[GuestJob] = None) -> RunRequest:
        """From the JSON config a VM target wrote (paths relative to the runfiles root, the
        cwd) and Bazel's test environment: outputs to $TEST_UNDECLARED_OUTPUTS_DIR, scratch in
        $TEST_TMPDIR, --test_filter via $TESTBRIDGE_TEST_ONLY. `payload`: the target kind's
        own (the verifier's cells); None: the selftests runner or the scenarios it names.
        An option the target left unset (0 or "") is its job kind's default."""
        test_filter = env.get("TESTBRIDGE_TEST_ONLY", "")
        timeout = float(cfg.get("vm_timeout_s") or 0)
        payload = payload or _payload_from_config(cfg, test_filter, timeout)
        tmp = Path(env.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="ktstr-"))
        out = Path(env.get("TEST_UNDECLARED_OUTPUTS_DIR") or (tmp / "outputs"))
        return cls(
            suite=cfg["suite"],
            kernel=Path(cfg["kernel"]),
            initrds=[Path(p) for p in cfg.get("initramfs", [])],
            payload=payload,
            topology=cfg.get("topology", ""),
            memory_mib=cfg.get("memory_mib") or None,
            timeout_s=timeout,
            cmdline_extra=cfg.get("cmdline", ""),
            engine=EngineOptions(
                cfg.get("engine") or None,
                Path(cfg["vmm_library"]).resolve() if cfg.get("vmm_library") else None,
                L1Host(Path(cfg["l1_kernel"]).resolve(), Path(cfg["l1_initramfs"]).resolve())
                if cfg.get("l1_kernel") else None),
            # Known failures: ktstr_test writes Expectation objects, ktstr_verifier_test one
            # expect_fail text for every case.
            expectations=(*(Expectation.from_json(e) for e in cfg.get("expectations", ())),
                          *expect_fail(cfg.get("expect_fail", ""))),
            out_dir=out,
            work_dir=tmp / "ktstr-work",
            kernel_layout=Path(cfg["kernel_layout"]) if cfg.get("kernel_layout") else None,
            monitor=dict(cfg.get("monitor") or {}),
            **_deadline(env),
        )

    @classmethod
    def from_cli(cls, args: argparse.Namespace, out_dir: Path, work_dir: Path,
                 payload: Optional[GuestJob] = None) -> RunRequest:
        """From `ktstr run`, `ktstr selftests`, `ktstr shell` or (with its cells as `payload`)
        `ktstr verifier` arguments (ktstr.cli); what they leave out is the job kind's default."""
        suite = getattr(args, "suite", None) or ""
        if payload is None:
            payload, suite = _payload_from_cli(args, suite)
        return cls(
            suite=suite or payload.JOB.kind,
            kernel=Path(args.kernel),
            initrds=[Path(p) for p in getattr(args, "initramfs", None) or []],
            payload=payload,
            topology=args.topology or "",
            memory_mib=args.memory_mib,
            timeout_s=getattr(args, "timeout", None) or 0.0,
            cmdline_extra=args.cmdline,
            engine=EngineOptions(args.engine, Path(args.vmm_library) if args.vmm_library else None),
            expectations=(*expect_fail(getattr(args, "expect_fail", None) or ""),
                          *may_fail(getattr(args, "may_fail", None) or ())),
            out_dir=out_dir,
            work_dir=work_dir,
            stream_console=getattr(args, "console", False),
            kernel_layout=Path(args.kernel_layout) if getattr(args, "kernel_layout", None) else None,
            monitor=_monitor_options(getattr(args, "monitor", None) or []),
        )


def _payload_from_cli(args: argparse.Namespace, suite: str) -> tuple[GuestJob, str]:
    """The selftests runner or the scenarios of `ktstr run` / `ktstr shell`, and the suite."""
    if getattr(args, "runner", None):
        return Command(Path(args.runner), tuple(args.runner_arg)), suite or "sched_ext_selftests"
    sources = getattr(args, "sources", None) or []
    tests = select(list_all([Path(s) for s in sources]), getattr(args, "test", "") or "",
                   getattr(args, "filter", "") or "")
    options = GuestOptions(duration_s=getattr(args, "duration", None),
                           vm_timeout_s=getattr(args, "timeout", None) or Scenarios.JOB.vm_timeout_s)
    return (Scenarios(tests, _scheduler_from_cli(args), options),
            suite or (Path(sources[0]).stem if sources else "shell"))


def _payload_from_config(cfg: dict[str, Any], test_filter: str, timeout: float) -> GuestJob:
    """ktstr_selftests_test's runner or ktstr_test's scenarios, with their options."""
    if cfg.get("selftests_runner"):
        args = list(cfg.get("selftests_args") or [])
        if test_filter:  # --test_filter=NAME runs the selftests whose names contain NAME
            args += ["-t", test_filter]
        return Command(Path(cfg["selftests_runner"]), tuple(args))
    tests = select(list_all([Path(s) for s in cfg["srcs"]]), cfg.get("test", ""), test_filter)
    duration = cfg.get("duration") or ""
    watchdog = cfg.get("watchdog_timeout_s") or ""
    return Scenarios(tests, _scheduler_from_config(cfg.get("scheduler")), GuestOptions(
        duration_s=float(duration) if duration else None, checks=_checks(cfg.get("checks") or {}),
        watchdog_timeout_s=float(watchdog) if watchdog else None,
        vm_timeout_s=timeout or Scenarios.JOB.vm_timeout_s))


def _deadline(env: dict[str, str]) -> dict[str, Any]:
    """Bazel kills a test at $TEST_TIMEOUT (SIGTERM, then SIGKILL): plan the boots to end
    before it, keeping a reserve to write the results."""
    raw = env.get("TEST_TIMEOUT", "")
    if not raw:
        return {}
    try:
        total = float(raw)
    except ValueError:
        raise RequestError(f"TEST_TIMEOUT={raw!r} is not a number of seconds (Bazel sets it from "
                           f"the target's size or timeout)") from None
    reserve = max(TEST_TIMEOUT_RESERVE_S, TEST_TIMEOUT_RESERVE_FRACTION * total)
    return {"deadline": time.monotonic() + total - reserve,
            "deadline_why": f"TEST_TIMEOUT={total:g} s, {reserve:g} s of it kept to write the results"}


def _monitor_options(items: list[str]) -> dict[str, str]:
    """`--monitor NAME=VALUE` options; the names and values are checked by the monitor."""
    bad = [i for i in items if "=" not in i]
    if bad:
        raise RequestError(f"--monitor {bad[0]!r}: expected NAME=VALUE, e.g. fail_on_stall=false")
    return dict(i.split("=", 1) for i in items)


def _checks(values: dict[str, str]) -> dict[str, str]:
    """The target's check overrides, refused here (not in the VM) when a name is unknown."""
    from ktstr.checks.assertions import Assert

    try:
        Assert.from_dict(values)
    except (ValueError, TypeError) as exc:
        raise RequestError(f"ktstr_test checks: {exc}") from exc
    return {k: str(v) for k, v in sorted(values.items())}


def _scheduler_from_config(s: Optional[dict[str, Any]]) -> SchedulerSpec:
    if not s:
        return EEVDF
    return SchedulerSpec(name=s["name"], binary=s["binary"], args=tuple(s["args"]),
                         ops_name=s.get("ops_name", ""), runtime_files=tuple(s.get("runtime_files", [])),
                         init_cpu=s.get("init_cpu"))


def _scheduler_from_cli(args: argparse.Namespace) -> SchedulerSpec:
    if not getattr(args, "scheduler", None):
        return EEVDF
    binary = Path(args.scheduler)
    return SchedulerSpec(name=args.scheduler_name or binary.name, binary=str(binary),
                         args=tuple(args.sched_arg), ops_name=args.ops_name or "",
                         runtime_files=tuple(args.runtime_file))
