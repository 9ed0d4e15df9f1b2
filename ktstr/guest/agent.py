"""The guest agent: init's job in a ktstr VM.

Reads /ktstr/run.json (ktstr.wire.run_config.RunConfig), mounts filesystems, starts the scheduler,
runs each test function, streams results to the host over COM2 and powers off. Every
failure (a scheduler that never attaches or dies, a test that raises, the agent's own bug)
ends as a result frame; a panic or hang is for the host to see.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
from typing import Any

from ktstr.guest import system
from ktstr.guest.kmsg import KmsgReader, mark
from ktstr.guest.scx_dump import ScxDump
from ktstr.wire import ktstr_pb2 as pb
from ktstr.wire.frames import HELLO, LOG, RUN_END, TEST_RESULT, TEST_START, FrameWriter
from ktstr.wire.marks import TEST_MARK
from ktstr.wire.messages import GuestTestResult
from ktstr.wire.run_config import RunConfig, TestRef
from ktstr.wire.status import Status

RUN_JSON = "/ktstr/run.json"


class Reporter:
    def __init__(self, port: str) -> None:
        import termios
        import tty

        self.fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)  # no \n -> \r\n translation inside binary frames
        attrs = termios.tcgetattr(self.fd)
        attrs[4] = attrs[5] = termios.B115200
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        self.writer = FrameWriter(self.fd)

    def log(self, text: str) -> None:
        print(f"ktstr-agent: {text}", flush=True)
        self.writer.send(LOG, pb.Log(text=text))

    def send(self, frame_type: int, msg: Any) -> None:
        self.writer.send(frame_type, msg)

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
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if fn is None or not callable(fn):
        raise LookupError(f"test {name!r} not found in {path}")
    return fn


def run_test(entry: TestRef, config: RunConfig, rep: Reporter, sched, topo, dump: ScxDump) -> GuestTestResult:
    from ktstr.checks.assertions import Assert
    from ktstr.checks.result import AssertResult
    from ktstr.scenario.cgroups import CgroupManager
    from ktstr.scenario.ctx import Ctx

    name = entry.name
    result = GuestTestResult(name=name, status=Status.FAIL)
    start = time.monotonic()
    try:
        fn = _load_test(entry.file, name)
        meta = getattr(fn, "ktstr_entry", None)
        duration = config.duration_s or (meta.duration if meta else 2.0)
        assert_ = Assert.default_checks(emulated=config.emulated)
        if meta and meta.scheduler and meta.scheduler.assert_:
            assert_ = assert_.merge(meta.scheduler.assert_)
        if meta and meta.assert_:
            assert_ = assert_.merge(meta.assert_)
        ctx = Ctx(cgroups=CgroupManager(parent=f"ktstr_{name}"), topo=topo, duration=float(duration),
                  assert_=assert_, scheduler=sched.spec.name if sched else "eevdf",
                  scheduler_problem=(sched.problem if sched else (lambda: None)), log=rep.log)
        outcome = fn(ctx)
        if not isinstance(outcome, AssertResult):
            outcome = AssertResult.fail(f"test function returned {type(outcome).__name__}, "
                                        f"not an AssertResult")
    except Exception:  # noqa: BLE001 - a raising test is a FAIL with its traceback
        from ktstr.checks.result import AssertResult

        tb = traceback.format_exc()
        outcome = AssertResult.fail(f"test raised {tb.strip().splitlines()[-1]}", tb)
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


def run(config: RunConfig, rep: Reporter) -> str:
    """Run every test of config; returns the agent error ('' when fine)."""
    from ktstr.guest.scheduler import Scheduler
    from ktstr.topology import SysTopology

    topo = SysTopology.read()
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    rep.send(HELLO, pb.Hello(kernel_release=os.uname().release, topology=topo.shape(),
                             cpus=len(topo.cpus), uptime_s=uptime))
    kmsg = KmsgReader()
    dump = ScxDump()
    sched = None
    if config.scheduler is not None:
        sched = Scheduler(config.scheduler, kmsg, "/tmp/scheduler.log")
    for entry in config.tests:
        rep.send(TEST_START, pb.TestStart(name=entry.name))
        mark(TEST_MARK.format(name=entry.name))
        dump.clear()  # a dump read after this test is this test's
        if sched is not None and sched.problem():
            if sched.attached:
                rep.log(f"scheduler gone before {entry.name} ({sched.problem()}); restarting it")
                sched.stop()
            problem = sched.start()
            if problem:
                sched.wait_disabled()
                result = GuestTestResult(name=entry.name, status=Status.FAIL,
                                         reason=f"scheduler {sched.spec.name} did not attach: {problem}",
                                         scheduler_output=sched.output_tail(),
                                         sched_ext_exit=sched.exit_reason(),
                                         sched_ext_dump=dump.collect())
                rep.send(TEST_RESULT, result.to_pb())
                continue
            rep.log(f"scheduler {sched.spec.name} attached")
        rep.send(TEST_RESULT, run_test(entry, config, rep, sched, topo, dump).to_pb())
    if sched is not None:
        sched.stop()
    return ""


def main() -> int:
    problems = system.mount_all()
    try:
        with open(RUN_JSON) as f:
            config = RunConfig.from_json(json.load(f))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"ktstr-agent: cannot read {RUN_JSON}: {type(exc).__name__}: {exc}", flush=True)
        system.power_off()
        return 1
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
        rep = Reporter(config.result_port)
    except OSError as exc:
        print(f"ktstr-agent: cannot open result port: {exc}", flush=True)
        system.power_off()
        return 1
    for p in problems:
        rep.log(f"mount problem: {p}")
    error = ""
    try:
        error = run(config, rep)
    except Exception:  # noqa: BLE001 - the host must get the agent's own failure
        error = traceback.format_exc()
        print(error, flush=True)
    rep.send(RUN_END, pb.RunEnd(agent_error=error))
    rep.close()
    system.power_off()
    return 0


if __name__ == "__main__":
    sys.exit(main())
