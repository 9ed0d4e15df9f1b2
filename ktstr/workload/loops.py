"""The worker loops (run in the forked child). Each loop calls `tick()` once per unit of
work: tick records progress gaps, CPU changes and the iteration count."""

from __future__ import annotations

import ctypes
import mmap
import os
import random
import time
from dataclasses import dataclass
from typing import Optional

from ktstr.workload.types import WorkerReport, WorkType, WorkloadConfig

SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_EXT = 0, 3, 5, 7
MAX_WAKE_SAMPLES = 10000

_libc = ctypes.CDLL(None, use_errno=True)
_getcpu = _libc.sched_getcpu

SYS_futex = 202  # x86_64
FUTEX_WAIT, FUTEX_WAKE = 0, 1
# The futex pair's shared area: u32 turn word (0: side 0 runs, 1: side 1 runs), pad, then
# the u64 CLOCK_MONOTONIC stamp of the hand-over.
FUTEX_AREA_BYTES = 16


PR_SET_NAME = 15


def set_comm(name: str) -> None:
    _libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


@dataclass
class Channel:
    """One side of a paired worker's link to its partner."""

    kind: str  # "pipe" | "eventfd" | "futex"
    read_fd: int = -1
    write_fd: int = -1
    shared: Optional[mmap.mmap] = None  # futex: the pair's area
    side: int = 0

    def close_in_parent(self) -> None:
        """After fork the parent keeps no ends: a child waiting on a pipe must see EOF when
        its partner dies, not hang on the parent's copy."""
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass


class Telemetry:
    def __init__(self, report: WorkerReport) -> None:
        self.r = report
        self.start = time.monotonic()
        self.last = self.start
        self.cpu = _getcpu()
        self.cpus = {self.cpu}
        self._rng = random.Random(report.pid)

    def tick(self) -> None:
        now = time.monotonic()
        gap = now - self.last
        cpu = _getcpu()
        if gap * 1000.0 > self.r.max_gap_ms:
            self.r.max_gap_ms = gap * 1000.0
            self.r.max_gap_cpu = cpu
            self.r.max_gap_at_ms = (now - self.start) * 1000.0
        if cpu != self.cpu:
            self.r.migrations += 1
            self.cpu = cpu
            self.cpus.add(cpu)
        self.last = now
        self.r.iterations += 1

    def wake(self, latency_s: float) -> None:
        samples = self.r.wake_latencies_us
        if len(samples) < MAX_WAKE_SAMPLES:
            samples.append(latency_s * 1e6)
        else:  # reservoir sampling keeps a uniform sample of all wakes
            j = self._rng.randrange(self.r.iterations + 1)
            if j < MAX_WAKE_SAMPLES:
                samples[j] = latency_s * 1e6


def spin(n: int) -> None:
    for _ in range(n):
        pass


def run(cfg: WorkloadConfig, index: int, peer: Channel | None, stop, report: WorkerReport) -> None:
    """Run cfg.work_type until stop() is true. `peer` holds the pair's channels."""
    t = Telemetry(report)
    wt = cfg.work_type
    n = cfg.spin_iters
    if wt is WorkType.SPIN_WAIT:
        while not stop():
            spin(n)
            t.tick()
    elif wt is WorkType.YIELD_HEAVY:
        while not stop():
            spin(n // 20)
            os.sched_yield()
            t.tick()
    elif wt is WorkType.BURSTY:
        while not stop():
            end = time.monotonic() + cfg.burst_ms / 1000.0
            while time.monotonic() < end and not stop():
                spin(n // 4)
            want = cfg.sleep_ms / 1000.0
            before = time.monotonic()
            time.sleep(want)
            t.wake(max(0.0, time.monotonic() - before - want))
            t.tick()
    elif wt is WorkType.SLEEP_HEAVY:
        path = f"/tmp/ktstr-io-{os.getpid()}"
        block = b"k" * 4096
        with open(path, "wb", buffering=0) as f:
            while not stop():
                f.seek(0)
                for _ in range(4):
                    f.write(block)
                before = time.monotonic()
                time.sleep(0.0001)
                t.wake(max(0.0, time.monotonic() - before - 0.0001))
                t.tick()
        os.unlink(path)
    elif wt in (WorkType.PIPE_PINGPONG, WorkType.EVENTFD_PINGPONG):
        _pingpong(cfg, index, peer, stop, t)
    elif wt is WorkType.FUTEX_PINGPONG:
        _futex_pingpong(cfg, peer, stop, t)
    elif wt is WorkType.CACHE_PRESSURE:
        buf = bytearray(256 * 1024)
        while not stop():
            for off in range(0, len(buf), 64):
                buf[off] = (buf[off] + 1) & 0xFF
            t.tick()
    elif wt is WorkType.FORK_EXIT:
        while not stop():
            before = time.monotonic()
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
            t.wake(time.monotonic() - before)
            t.tick()
    elif wt is WorkType.NICE_SWEEP:
        nice = 0
        while not stop():
            spin(n // 2)
            nice = (nice + 1) % 20
            try:
                os.setpriority(os.PRIO_PROCESS, 0, nice)
            except PermissionError:
                pass  # raising priority again needs CAP_SYS_NICE; keep sweeping what we may
            before = time.monotonic()
            os.sched_yield()
            t.wake(time.monotonic() - before)
            t.tick()
    elif wt is WorkType.AFFINITY_CHURN:
        allowed = sorted(os.sched_getaffinity(0))
        rng = random.Random(os.getpid())
        while not stop():
            spin(n)
            os.sched_setaffinity(0, {rng.choice(allowed)})
            before = time.monotonic()
            os.sched_yield()
            t.wake(time.monotonic() - before)
            t.tick()
        os.sched_setaffinity(0, allowed)
    elif wt is WorkType.POLICY_CHURN:
        policies = [SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_EXT]
        i = 0
        param = os.sched_param(0)
        while not stop():
            spin(n)
            i += 1
            try:
                os.sched_setscheduler(0, policies[i % len(policies)], param)
            except OSError:
                pass  # SCHED_EXT needs a sched_ext kernel; the others always work
            before = time.monotonic()
            os.sched_yield()
            t.wake(time.monotonic() - before)
            t.tick()
        try:
            os.sched_setscheduler(0, SCHED_OTHER, param)
        except PermissionError:
            pass  # leaving SCHED_IDLE needs CAP_SYS_NICE; the worker exits right after
    else:  # pragma: no cover - every WorkType is handled above
        raise ValueError(f"unhandled work type {wt}")
    report.cpus_used = sorted(t.cpus)


def _pingpong(cfg, index, peer, stop, t: Telemetry) -> None:
    """Even workers serve, odd ones answer. Each message carries the sender's monotonic time
    (shared across processes), so the receiver measures send -> wake latency."""
    read_fd, write_fd, is_eventfd = peer.read_fd, peer.write_fd, peer.kind == "eventfd"
    first = index % 2 == 0
    if first:
        _send(write_fd, is_eventfd)
    while not stop():
        try:
            sent_at = _recv(read_fd, is_eventfd, timeout=0.1)
        except TimeoutError:
            continue
        t.wake(max(0.0, time.monotonic() - sent_at))
        spin(cfg.spin_iters // 4)
        _send(write_fd, is_eventfd)
        t.tick()


def _futex_pingpong(cfg, peer: Channel, stop, t: Telemetry) -> None:
    """The pair hands a turn word back and forth: store the stamp, flip the word,
    FUTEX_WAKE the partner, FUTEX_WAIT until the word comes back. A plain futex wake (no
    WF_SYNC hint, unlike a pipe), the path of mutexes and condition variables."""
    turn = ctypes.c_uint32.from_buffer(peer.shared, 0)
    stamp = ctypes.c_uint64.from_buffer(peer.shared, 8)
    me, other = peer.side, 1 - peer.side
    wait_for = _Timespec(0, 100_000_000)  # wake up to look at stop() every 100 ms
    futex = _libc.syscall
    while not stop():
        if turn.value != me:
            futex(SYS_futex, ctypes.byref(turn), FUTEX_WAIT, other, ctypes.byref(wait_for), None, 0)
            continue  # woken, timed out or the word changed before we slept: look again
        if stamp.value:
            t.wake(max(0.0, time.monotonic() - stamp.value / 1e9))
        spin(cfg.spin_iters // 4)
        stamp.value = int(time.monotonic() * 1e9)
        turn.value = other
        futex(SYS_futex, ctypes.byref(turn), FUTEX_WAKE, 1, None, None, 0)
        t.tick()
    turn.value = other  # do not leave the partner waiting for a turn that never comes
    futex(SYS_futex, ctypes.byref(turn), FUTEX_WAKE, 1, None, None, 0)
    del turn, stamp  # release the exported buffers before the mmap goes away


def _send(fd: int, is_eventfd: bool) -> None:
    stamp = int(time.monotonic() * 1e9)
    if is_eventfd:
        os.eventfd_write(fd, stamp)
    else:
        os.write(fd, stamp.to_bytes(8, "little"))


def _recv(fd: int, is_eventfd: bool, timeout: float) -> float:
    import select

    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        raise TimeoutError
    if is_eventfd:
        value = os.eventfd_read(fd)
    else:
        data = os.read(fd, 8)
        value = int.from_bytes(data, "little")
    return value / 1e9
