"""Forked worker processes: spawn blocked, place in a cgroup, start, stop, collect reports.

Every worker is its own process so it can sit in its own cgroup. Life of a worker:
fork -> child waits on a start pipe -> parent moves it (cgroup, affinity) -> parent writes
the start byte -> child runs its loop until SIGUSR1 -> child writes its JSON report on a
pipe and exits. A worker that does not report in time is SIGKILLed and reported as such.
"""

from __future__ import annotations

import json
import mmap
import os
import select
import signal
import time
import traceback
from dataclasses import dataclass, field

from ktstr.workload import loops
from ktstr.workload.types import WorkerReport, WorkloadConfig, WorkType

START_TIMEOUT_S = 30.0
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
        peers = _make_peers(cfg)
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
        for w in self._workers:
            os.write(w.start_w, b"g")
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
                report = WorkerReport(pid=w.pid, work_type=self.cfg.work_type.value, completed=False,
                                      exit_info=exit_info or f"no report within {timeout_s:.0f}s")
            if exit_info and not report.exit_info and exit_info != "exited 0":
                report.exit_info = exit_info
            reports.append(report)
        return reports

    def kill(self) -> None:
        for w in self._workers:
            _signal(w.pid, signal.SIGKILL)
            _reap(w.pid)


def _make_peers(cfg: WorkloadConfig) -> dict[int, loops.Channel]:
    """Channels of paired work types: worker 2k talks to 2k+1."""
    peers: dict[int, loops.Channel] = {}
    if cfg.work_type.group_size != 2:
        return peers
    for a in range(0, cfg.num_workers, 2):
        if cfg.work_type is WorkType.FUTEX_PINGPONG:
            shared = mmap.mmap(-1, loops.FUTEX_AREA_BYTES)  # MAP_SHARED: both children see it
            peers[a] = loops.Channel("futex", shared=shared, side=0)
            peers[a + 1] = loops.Channel("futex", shared=shared, side=1)
        elif cfg.work_type is WorkType.EVENTFD_PINGPONG:
            to_a, to_b = os.eventfd(0), os.eventfd(0)
            peers[a] = loops.Channel("eventfd", to_a, to_b)
            peers[a + 1] = loops.Channel("eventfd", to_b, to_a)
        else:
            a_r, b_w = os.pipe()
            b_r, a_w = os.pipe()
            peers[a] = loops.Channel("pipe", a_r, a_w)
            peers[a + 1] = loops.Channel("pipe", b_r, b_w)
    return peers


def _child(cfg: WorkloadConfig, index: int, peer, start_r: int, report_w: int, mask) -> None:
    code = 0
    try:
        os.setpgid(0, 0)
        loops.set_comm(cfg.comm(index))
        stopping = [False]
        signal.signal(signal.SIGUSR1, lambda *_: stopping.__setitem__(0, True))
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        ready, _, _ = select.select([start_r], [], [], START_TIMEOUT_S)
        if not ready or os.read(start_r, 1) != b"g":
            os._exit(3)  # never started: the parent went away
        if cfg.cpus:
            os.sched_setaffinity(0, cfg.cpus)
        if cfg.nice:
            os.setpriority(os.PRIO_PROCESS, 0, cfg.nice)
        report = WorkerReport(pid=os.getpid(), work_type=cfg.work_type.value)
        wall0, cpu0 = time.monotonic_ns(), time.process_time_ns()
        loops.run(cfg, index, peer, lambda: stopping[0], report)
        report.wall_time_ns = time.monotonic_ns() - wall0
        report.cpu_time_ns = time.process_time_ns() - cpu0
        data = json.dumps(report.to_json()).encode()
        while data:
            data = data[os.write(report_w, data):]
    except BaseException:  # noqa: BLE001 - the parent must get the reason, not silence
        traceback.print_exc()
        code = 2
    finally:
        os._exit(code)


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
