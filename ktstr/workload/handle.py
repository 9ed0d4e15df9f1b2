"""Forked worker processes: spawn blocked, place in a cgroup, start, stop, collect reports.

Every worker is its own process so it can sit in its own cgroup. Life of a worker:
fork -> child waits on a start pipe -> parent moves it (cgroup, affinity) -> parent writes
the start byte -> child applies its placement (affinity intent, memory policy, nice,
scheduling policy) and runs its loop until SIGUSR1 -> child writes its JSON report on a pipe
and exits. A worker that fails says why in its report; one that does not report in time is
SIGKILLed and reported as such.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import time
import traceback
from dataclasses import dataclass, field

from ktstr.topology import parse_cpulist
from ktstr.workload import loops
from ktstr.workload.links import Link, make_links
from ktstr.workload.telemetry import Telemetry, read_numa_pages, read_schedstat
from ktstr.workload.types import WorkerReport, WorkloadConfig

START_TIMEOUT_S = 30.0
START = b"g"  # then the parent's CLOCK_MONOTONIC at the start, 8 bytes: the window's opening
COLLECT_TIMEOUT_S = 5.0


@dataclass
class _Worker:
    pid: int
    start_w: int
    report_r: int
    buf: bytearray = field(default_factory=bytearray)


class WorkloadHandle:
    def __init__(self, cfg: WorkloadConfig, workers: list[_Worker]) -> None:
        self.cfg = cfg
        self._workers = workers
        self.started = False

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self._workers]

    @classmethod
    def spawn(cls, cfg: WorkloadConfig) -> "WorkloadHandle":
        cfg.validate()
        peers = make_links(cfg)
        workers = []
        # SIGUSR1 (stop) stays blocked across fork until the child has its handler: a stop
        # sent to a worker that has not got that far must not kill it with the default action.
        parent_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        try:
            for i in range(cfg.num_workers):
                start_r, start_w = os.pipe()
                report_r, report_w = os.pipe()
                pid = os.fork()
                if pid == 0:  # child: never returns
                    os.close(start_w)
                    os.close(report_r)
                    _child(cfg, i, peers.get(i), start_r, report_w, parent_mask)
                os.close(start_r)
                os.close(report_w)
                workers.append(_Worker(pid, start_w, report_r))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, parent_mask)
        for channel in peers.values():
            channel.close_in_parent()
        return cls(cfg, workers)

    def start(self) -> None:
        # Every worker's window opens at this one instant, not when it first gets a CPU: a
        # worker that waits to run after the start is off-CPU for that wait (CLOCK_MONOTONIC
        # is the same clock in every process).
        go = START + time.monotonic_ns().to_bytes(8, "little")
        for w in self._workers:
            os.write(w.start_w, go)
            os.close(w.start_w)
        self.started = True

    def stop_and_collect(self, timeout_s: float = COLLECT_TIMEOUT_S) -> list[WorkerReport]:
        if not self.started:
            self.start()
        for w in self._workers:
            _signal(w.pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout_s
        pending = {w.report_r: w for w in self._workers}
        while pending and time.monotonic() < deadline:
            ready, _, _ = select.select(list(pending), [], [], max(0.0, deadline - time.monotonic()))
            for fd in ready:
                chunk = os.read(fd, 65536)
                if chunk:
                    pending[fd].buf += chunk
                else:
                    os.close(fd)
                    del pending[fd]
        reports = []
        for w in self._workers:
            if w.report_r in pending:
                os.close(w.report_r)
                _signal(w.pid, signal.SIGKILL)
            exit_info = _reap(w.pid)
            try:
                report = WorkerReport.from_json(json.loads(bytes(w.buf)))
            except (ValueError, TypeError):
                timed_out = w.report_r in pending
                report = WorkerReport(pid=w.pid, work_type=self.cfg.work_type.value, completed=False,
                                      exit_info=(f"no report within {timeout_s:.0f}s, {exit_info}"
                                                 if timed_out else exit_info or "no report"))
            if exit_info and not report.exit_info and exit_info != "exited 0":
                report.exit_info = exit_info
            reports.append(report)
        return reports

    def kill(self) -> None:
        for w in self._workers:
            _signal(w.pid, signal.SIGKILL)
            _reap(w.pid)


def _child(cfg: WorkloadConfig, index: int, link: Link | None, start_r: int, report_w: int,
           mask) -> None:
    code = 0
    report = WorkerReport(pid=os.getpid(), work_type=cfg.work_type.value)
    try:
        os.setpgid(0, 0)
        loops.set_comm(cfg.comm(index))
        stopping = [False]
        signal.signal(signal.SIGUSR1, lambda *_: stopping.__setitem__(0, True))
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        ready, _, _ = select.select([start_r], [], [], START_TIMEOUT_S)
        go = os.read(start_r, len(START) + 8) if ready else b""
        if len(go) != len(START) + 8 or not go.startswith(START):
            os._exit(3)  # never started: the parent went away
        wall0, cpu0 = int.from_bytes(go[len(START):], "little"), time.process_time_ns()
        report.start_delay_ns = time.monotonic_ns() - wall0
        _place(cfg, index)
        sched0 = read_schedstat()
        loops.run(cfg, index, link, lambda: stopping[0], Telemetry(report))
        report.wall_time_ns = time.monotonic_ns() - wall0
        report.cpu_time_ns = time.process_time_ns() - cpu0
        sched1 = read_schedstat()
        if sched0 and sched1:
            report.schedstat_cpu_time_ns = sched1[0] - sched0[0]
            report.schedstat_run_delay_ns = sched1[1] - sched0[1]
            report.schedstat_run_count = sched1[2] - sched0[2]
        report.numa_pages = read_numa_pages()
    except BaseException as exc:  # noqa: BLE001 - the parent must get the reason, not silence
        traceback.print_exc()
        report.completed = False
        report.exit_info = f"worker failed: {type(exc).__name__}: {exc}"
        code = 2
    finally:
        try:
            data = json.dumps(report.to_json()).encode()
            while data:
                data = data[os.write(report_w, data):]
        finally:
            os._exit(code)


def _place(cfg: WorkloadConfig, index: int) -> None:
    """Affinity (fixed mask or intent), memory policy, nice, scheduling policy: in that
    order, so a real-time policy is set last, after the worker is where it belongs."""
    if cfg.affinity is not None:
        pool = cfg.pool or sorted(os.sched_getaffinity(0))
        cpus = cfg.affinity.resolve(pool, _online_cpus(), cfg.llc_groups, random.Random(os.getpid()))
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
    elif cfg.cpus:
        os.sched_setaffinity(0, cfg.cpus)
    cfg.mem_policy.apply()
    if cfg.nice:
        os.setpriority(os.PRIO_PROCESS, 0, cfg.nice)
    if cfg.policy.policy or cfg.policy.priority:
        cfg.policy.apply()


def _online_cpus() -> list[int]:
    with open("/sys/devices/system/cpu/online") as f:
        return parse_cpulist(f.read())


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> str:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return ""
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exited {os.WEXITSTATUS(status)}"
