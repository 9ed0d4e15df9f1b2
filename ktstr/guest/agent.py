"""The guest agent: init's job in a ktstr VM.

Reads /ktstr/run.json (ktstr.wire.run_config.RunConfig), mounts filesystems, starts the scheduler,
runs each test function, streams results to the host over COM2 and powers off. Every
failure (a scheduler that never attaches or dies, a test that raises, the agent's own bug)
ends as a result frame; a panic or hang is for the host to see.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import sys
import time
import traceback
from typing import TYPE_CHECKING, Optional

from ktstr.guest import system
from ktstr.guest.kmsg import KmsgReader, mark
from ktstr.guest.scx_dump import ScxDump
from ktstr.wire.frames import FrameWriter
from ktstr.wire.marks import TEST_MARK
from ktstr.wire.messages import GuestTestResult, Hello, Log, RunEnd, TestStart, WireMessage
from ktstr.wire.run_config import READY_MARK, RunConfig, TestRef, read_delivered
from ktstr.wire.status import Status

if TYPE_CHECKING:
    from ktstr.topology import SysTopology

RUN_JSON = "/ktstr/run.json"


class Reporter:
    """The result channel: only the agent writes frames. The port is opened close-on-exec
    (no scheduler, worker or payload inherits it through exec), its device node is removed
    (nothing opens it by name by accident), and a forked test process drops it with
    forget() and reports over its own pipe (ktstr.guest.test_process)."""

    def __init__(self, port: str, key: bytes = b"") -> None:
        import termios
        import tty

        self.fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            os.unlink(port)
        except OSError as exc:
            print(f"ktstr-agent: cannot remove {port} after opening it: {exc}", flush=True)
        tty.setraw(self.fd)  # no \n -> \r\n translation inside binary frames
        attrs = termios.tcgetattr(self.fd)
        attrs[4] = attrs[5] = termios.B115200
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        self.writer = FrameWriter(self.fd, key)

    def sign_with(self, key: bytes) -> None:
        """A restored clone's key, read from the port after the restore (await_run_json)."""
        self.writer.key = key

    def forget(self) -> None:
        """In a forked child: close the channel and drop the key."""
        os.close(self.fd)
        self.writer.forget()

    def log(self, text: str) -> None:
        print(f"ktstr-agent: {text}", flush=True)
        self.writer.send(Log(text))

    def send(self, message: WireMessage) -> None:
        self.writer.send(message)

    def close(self) -> None:
        import termios

        termios.tcdrain(self.fd)
        os.close(self.fd)


def _load_test(path: str, name: str):
    module_name = "ktstr_test_" + os.path.splitext(os.path.basename(path))[0]
    if module_name in sys.modules:
        module = sys.modules[module_name]
    else:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"{path}: not a Python module the agent can load")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if fn is None or not callable(fn):
        raise LookupError(f"test {name!r} not found in {path}")
    return fn


def _checks(config: RunConfig, meta):
    """Default checks, then the scheduler's, then the Bazel target's, then the test's own."""
    from ktstr.checks.assertions import Assert

    checks = Assert.default_checks(emulated=config.emulated)
    if meta and meta.scheduler and meta.scheduler.assert_:
        checks = checks.merge(meta.scheduler.assert_)
    if config.checks:
        checks = checks.merge(Assert.from_dict(config.checks))
    if meta and meta.assert_:
        checks = checks.merge(meta.assert_)
    return checks


def _deadline_s(config: RunConfig) -> float:
    """How long a test may run: what is left of the VM's time, less a margin to report in."""
    if not config.vm_timeout_s:
        return 600.0
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return max(5.0, config.vm_timeout_s - uptime - 15.0)


def run_test(entry: TestRef, fn, meta, config: RunConfig, rep: Reporter, sched, topo, dump: ScxDump,
             kmsg: KmsgReader) -> GuestTestResult:
    """Run one test function in its own process (ktstr.guest.test_process) and judge the
    scheduler after it."""
    from ktstr.checks.result import AssertResult
    from ktstr.guest.test_process import log_to_agent, run_isolated
    from ktstr.scenario.cgroups import CgroupManager
    from ktstr.scenario.ctx import Ctx

    name = entry.name
    result = GuestTestResult(name=name, status=Status.FAIL)
    start = time.monotonic()
    duration = config.duration_s or (meta.duration if meta else 2.0)
    kmsg.poll()
    kmsg_from = len(kmsg.lines)

    def body() -> AssertResult:  # runs in the test process
        try:
            ctx = Ctx(cgroups=CgroupManager(parent=f"ktstr_{name}"), topo=topo, duration=float(duration),
                      assert_=_checks(config, meta), scheduler=sched.spec.name if sched else "eevdf",
                      scheduler_problem=(sched.probe if sched else (lambda: None)), log=log_to_agent)
            outcome = fn(ctx)
            if not isinstance(outcome, AssertResult):
                outcome = AssertResult.fail(f"test function returned {type(outcome).__name__}, "
                                            f"not an AssertResult")
        except Exception:  # noqa: BLE001 - a raising test is a FAIL with its traceback
            tb = traceback.format_exc()
            outcome = AssertResult.fail(f"test raised {tb.strip().splitlines()[-1]}", tb)
        return outcome

    def kmsg_since() -> list[str]:
        kmsg.poll()
        return kmsg.lines[kmsg_from:]

    keep = [sched.proc.pid] if sched is not None and sched.proc is not None else []
    outcome = run_isolated(name, body, kmsg_since, keep, _deadline_s(config), on_log=rep.log, in_child=rep.forget)
    if sched is not None:
        problem = sched.problem()
        if problem:
            sched.wait_disabled()  # the kernel's reason lands in this test's log, not the next's
            outcome.add_failure(f"scheduler {sched.spec.name} died: {problem}")
        exit_reason = sched.exit_reason()
        if problem or not outcome.passed:
            result.scheduler_output = sched.output_tail()
        if problem and exit_reason:
            result.sched_ext_exit = exit_reason
            outcome.reason = f"{outcome.reason}; sched_ext: {exit_reason}"
        if problem:
            result.sched_ext_dump = dump.collect()
    result.status = outcome.status
    result.reason = outcome.reason
    result.details = list(outcome.details)
    result.claims = list(outcome.claims)
    result.stats = {k: float(v) for k, v in outcome.stats.items()}
    result.duration_s = time.monotonic() - start
    return result


def _failed(name: str, reason: str, details: tuple[str, ...] = (), sched=None, dump=None) -> GuestTestResult:
    result = GuestTestResult(name=name, status=Status.FAIL, reason=reason, details=list(details))
    if sched is not None:
        result.scheduler_output = sched.output_tail()
        result.sched_ext_exit = sched.exit_reason()
        result.sched_ext_dump = dump.collect() if dump is not None else ""
    return result


def _ensure_scheduler(sched, watchdog_ms: int, name: str, rep: Reporter) -> Optional[str]:
    """(Re)start the scheduler when it is gone or runs with another watchdog than this
    test wants; returns the problem when it cannot attach as asked."""
    if sched.problem() is None and sched.watchdog_ms == watchdog_ms:
        return None
    if sched.attached:
        why = sched.problem() or f"watchdog {watchdog_ms or 'default'} ms for {name}"
        rep.log(f"restarting scheduler {sched.spec.name} before {name} ({why})")
        sched.stop()
        sched.wait_disabled()
    problem = sched.start(watchdog_ms)
    if problem is None:
        rep.log(f"scheduler {sched.spec.name} attached" + (f" (watchdog {watchdog_ms} ms)" if watchdog_ms else ""))
    return problem


def hello(topo: SysTopology) -> Hello:
    """The first frame of every boot: the kernel, the shape the guest sees, its uptime."""
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return Hello(kernel_release=os.uname().release, topology=topo.shape(), cpus=len(topo.cpus), uptime_s=uptime)


def run(config: RunConfig, rep: Reporter) -> str:
    """Run every test of config; returns the agent error ('' when fine)."""
    from ktstr.guest.scheduler import Scheduler
    from ktstr.guest.test_process import reap
    from ktstr.topology import SysTopology

    topo = SysTopology.read()
    rep.send(hello(topo))
    kmsg = KmsgReader()
    dump = ScxDump()
    sched = None
    if config.scheduler is not None:
        sched = Scheduler(config.scheduler, kmsg, "/tmp/scheduler.log")
    for entry in config.tests:
        rep.send(TestStart(entry.name))
        mark(TEST_MARK.format(name=entry.name))
        dump.clear()  # a dump read after this test is this test's
        try:
            fn = _load_test(entry.file, entry.name)
        except Exception:  # noqa: BLE001 - a test module that does not load is that test's FAIL
            tb = traceback.format_exc()
            rep.send(_failed(entry.name, f"test raised {tb.strip().splitlines()[-1]}", (tb,)))
            continue
        meta = getattr(fn, "ktstr_entry", None)
        watchdog_s = (meta.watchdog_timeout_s if meta else 0.0) or config.watchdog_timeout_s or 0.0
        if sched is None:
            if watchdog_s:
                rep.log(f"{entry.name}: watchdog_timeout_s={watchdog_s:g} has no effect under EEVDF "
                        f"(no sched_ext scheduler, no sched_ext watchdog)")
        else:
            problem = _ensure_scheduler(sched, int(watchdog_s * 1000), entry.name, rep)
            if problem:
                sched.wait_disabled()
                rep.send(_failed(entry.name, f"scheduler {sched.spec.name} did not attach: {problem}",
                                 sched=sched, dump=dump))
                continue
        rep.send(run_test(entry, fn, meta, config, rep, sched, topo, dump, kmsg))
        reap([sched.proc.pid] if sched is not None and sched.proc is not None else [])
    if sched is not None:
        sched.stop()
    return ""


def _read_config() -> RunConfig:
    """run.json, removed as soon as it is read: it holds the boot's result key, and nothing
    the agent starts later may find it."""
    try:
        return RunConfig.read(RUN_JSON)
    finally:
        try:
            os.unlink(RUN_JSON)
        except OSError:
            pass


# What run() and a test import on first use: imported in the template, once, the clones
# start with them loaded (Python's imports are a large part of a start under TCG).
WARM_IMPORTS = ("ktstr", "ktstr.canned", "ktstr.checks.assertions", "ktstr.checks.result", "ktstr.guest.scheduler",
                "ktstr.guest.test_process", "ktstr.scenario.cgroups", "ktstr.scenario.ctx", "ktstr.topology")


def _warm_imports() -> None:
    for name in WARM_IMPORTS:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the clone imports it again and reports what fails
            print(f"ktstr-agent: {name} does not import in the template: {type(exc).__name__}: {exc}", flush=True)


def await_run_json(rep: Reporter) -> tuple[RunConfig, bytes]:
    """A snapshot's template (mode "ready"): say so on the result port, then wait there. The
    host snapshots the VM at this read; each restored clone is sent its own run.json, with
    its own key, over the port (ktstr.wire.run_config.delivery), which only this process
    holds (opened close-on-exec, its node removed). Nothing has started yet: no test,
    scheduler or frame, so the clone's stream begins at sequence 0 under its own key."""
    import termios

    _warm_imports()
    os.write(rep.fd, READY_MARK)
    termios.tcdrain(rep.fd)
    config, seed = read_delivered(lambda n: os.read(rep.fd, n))
    _reseed(seed)
    return dataclasses.replace(config, result_key=""), bytes.fromhex(config.result_key)


RNDRESEEDCRNG = 0x5207  # linux/random.h: _IO('R', 0x07)


def _reseed(seed: bytes) -> None:
    """A clone's own randomness: the host's seed mixed into the kernel's pool and the CRNG
    reseeded from it (else every clone would draw the template's stream), then Python's
    random module, which the template may have seeded already."""
    import fcntl
    import random

    try:
        with open("/dev/urandom", "wb", buffering=0) as f:
            f.write(seed)
            fcntl.ioctl(f.fileno(), RNDRESEEDCRNG)
    except OSError as exc:
        print(f"ktstr-agent: cannot reseed the kernel's CRNG: {exc}", flush=True)
    random.seed(seed)


def main() -> int:
    try:
        config = _read_config()
        key = bytes.fromhex(config.result_key)
    except Exception as exc:  # noqa: BLE001 - PID 1 must not die: an exit panics the guest
        system.mount_all()
        print(f"ktstr-agent: cannot read {RUN_JSON}: {type(exc).__name__}: {exc}", flush=True)
        system.power_off()
        return 1
    config = dataclasses.replace(config, result_key="")
    problems = system.mount_all()
    if config.mode == "shell":
        from ktstr.guest import shell

        for p in problems:
            print(f"ktstr-agent: mount problem: {p}", flush=True)
        try:
            shell.run(config)
        finally:
            system.power_off()
        return 0
    try:
        rep = Reporter(config.result_port, key)
    except OSError as exc:
        print(f"ktstr-agent: cannot open result port: {exc}", flush=True)
        system.power_off()
        return 1
    if config.mode == "ready":
        try:
            config, key = await_run_json(rep)
        except Exception as exc:  # noqa: BLE001 - PID 1 must not die: an exit panics the guest
            print(f"ktstr-agent: no run.json after the restore: {type(exc).__name__}: {exc}", flush=True)
            system.power_off()
            return 1
        rep.sign_with(key)
    for p in problems:
        rep.log(f"mount problem: {p}")
    error = ""
    try:
        if config.mode == "exec":
            from ktstr.guest.shell import run_command

            run_command(config, rep)
        else:
            error = run(config, rep)
    except Exception:  # noqa: BLE001 - the host must get the agent's own failure
        error = traceback.format_exc()
        print(error, flush=True)
    rep.send(RunEnd(agent_error=error))
    rep.close()
    system.power_off()
    return 0


if __name__ == "__main__":
    sys.exit(main())
