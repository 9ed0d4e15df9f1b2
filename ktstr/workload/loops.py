"""The worker loops (run in the forked child), one function per work type. Each loop calls
`t.tick()` once per outer iteration and `t.spin(n)` for CPU work (counted as work units);
blocking loops time their waits with `t.wake()`. Blocking waits time out every 100 ms so a
worker sees its stop request."""

from __future__ import annotations

import ctypes
import math
import mmap
import os
import random
import select
import time
from typing import TYPE_CHECKING, Callable

from ktstr.workload import native
from ktstr.workload.links import SEM_OFFSET, Link, LinkKind
from ktstr.workload.phases import PhaseKind
from ktstr.workload.placement import SCHED_BATCH, SCHED_EXT, SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RR

if TYPE_CHECKING:  # types.py names these loops in its records, so it imports this module
    from ktstr.workload.telemetry import Telemetry
    from ktstr.workload.types import WorkloadConfig

_libc = ctypes.CDLL(None, use_errno=True)

SYS_futex = 202  # x86_64
FUTEX_WAIT, FUTEX_WAKE = 0, 1
INT_MAX = 2**31 - 1
CLOCK_MONOTONIC = 1
STOP_POLL_S = 0.1
IO_BLOCK = b"k" * 4096

Stop = Callable[[], bool]


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_POLL = _Timespec(0, int(STOP_POLL_S * 1e9))

PR_SET_NAME = 15


def set_comm(name: str) -> None:
    _libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def _futex_wait(word: ctypes.c_uint32, expected: int) -> int:
    """0 when woken, -1 (EAGAIN: the word changed; ETIMEDOUT; EINTR) otherwise."""
    return _libc.syscall(SYS_futex, ctypes.byref(word), FUTEX_WAIT, expected, ctypes.byref(_POLL), None, 0)


def _futex_wake(word: ctypes.c_uint32, n: int) -> None:
    _libc.syscall(SYS_futex, ctypes.byref(word), FUTEX_WAKE, n, None, None, 0)


def _now_ns() -> int:
    return time.monotonic_ns()


def run(cfg: WorkloadConfig, index: int, link: Link | None, stop: Stop, t: Telemetry) -> None:
    """Run cfg.work_type's loop (its WorkTypeSpec names it) until stop() is true."""
    cfg.work_type.spec.loop(cfg, index, link, stop, t)
    t.finish()


def spin_wait(cfg, index, link, stop, t: Telemetry) -> None:
    while not stop():
        t.spin(cfg.spin_iters)
        t.tick()


def yield_heavy(cfg, index, link, stop, t: Telemetry) -> None:
    while not stop():
        t.spin(cfg.spin_iters // 20)
        os.sched_yield()
        t.tick()


def mixed(cfg, index, link, stop, t: Telemetry) -> None:
    while not stop():
        t.spin(cfg.spin_iters)
        os.sched_yield()
        t.tick()


def _timed_sleep(t: Telemetry, seconds: float) -> None:
    before = time.monotonic()
    time.sleep(seconds)
    t.wake(max(0.0, time.monotonic() - before - seconds))


def bursty(cfg, index, link, stop, t: Telemetry) -> None:
    while not stop():
        end = time.monotonic() + cfg.burst_ms / 1000.0
        while time.monotonic() < end and not stop():
            t.spin(cfg.spin_iters // 4)
        _timed_sleep(t, cfg.sleep_ms / 1000.0)
        t.tick()


def _io_unit(f, t: Telemetry) -> None:
    """The original's IoSync unit: 16 x 4 KiB written to a tmpfs file, then 100 us asleep."""
    f.seek(0)
    for _ in range(16):
        f.write(IO_BLOCK)
    _timed_sleep(t, 0.0001)


def sleep_heavy(cfg, index, link, stop, t: Telemetry) -> None:
    path = f"/tmp/ktstr-io-{os.getpid()}"
    with open(path, "wb", buffering=0) as f:
        while not stop():
            _io_unit(f, t)
            t.tick()
    os.unlink(path)


class _Cache:
    """A per-worker buffer, allocated after the fork; one pass is a strided read-modify-write."""

    def __init__(self, cfg: WorkloadConfig) -> None:
        self.buf = native.CacheBuffer(cfg.cache_kb * 1024, cfg.stride)

    def touch(self, t: Telemetry) -> None:
        t.hot(self.buf.pass_())


def cache_pressure(cfg, index, link, stop, t: Telemetry) -> None:
    cache = _Cache(cfg)
    while not stop():
        cache.touch(t)
        t.tick()


def cache_yield(cfg, index, link, stop, t: Telemetry) -> None:
    cache = _Cache(cfg)
    while not stop():
        cache.touch(t)
        before = time.monotonic()
        os.sched_yield()
        t.wake(time.monotonic() - before)
        t.tick()


def _send(link: Link) -> None:
    stamp = _now_ns()
    if link.kind is LinkKind.EVENTFD:
        os.eventfd_write(link.write_fd, stamp)
    else:
        os.write(link.write_fd, stamp.to_bytes(8, "little"))


def _recv(link: Link) -> int | None:
    """The sender's stamp (ns), None on timeout."""
    ready, _, _ = select.select([link.read_fd], [], [], STOP_POLL_S)
    if not ready:
        return None
    if link.kind is LinkKind.EVENTFD:
        return os.eventfd_read(link.read_fd)
    data = os.read(link.read_fd, 8)
    if len(data) < 8:
        raise EOFError("the partner worker is gone")
    return int.from_bytes(data, "little")


def pingpong(cfg, index, link: Link, stop, t: Telemetry) -> None:
    _exchange(cfg, link, stop, t, None)


def cache_pipe(cfg, index, link: Link, stop, t: Telemetry) -> None:
    _exchange(cfg, link, stop, t, _Cache(cfg))


def _exchange(cfg, link: Link, stop, t: Telemetry, cache: _Cache | None) -> None:
    """The pair's first side serves, the other answers, with a cache pass (or a little
    spinning) between messages. Each message carries the sender's monotonic time (shared
    across processes), so the receiver measures send -> wake."""
    if link.role == 0:
        _send(link)
    while not stop():
        sent_at = _recv(link)
        if sent_at is None:
            continue
        t.wake(max(0, _now_ns() - sent_at) / 1e9)
        if cache is not None:
            cache.touch(t)
        else:
            t.spin(cfg.spin_iters // 4)
        _send(link)
        t.tick()


def futex_pingpong(cfg, index, link: Link, stop, t: Telemetry) -> None:
    """The pair hands a turn word back and forth: store the stamp, flip the word,
    FUTEX_WAKE the partner, FUTEX_WAIT until the word comes back. A plain futex wake (no
    WF_SYNC hint, unlike a pipe), the path of mutexes and condition variables."""
    turn = ctypes.c_uint32.from_buffer(link.shared, 0)
    stamp = ctypes.c_uint64.from_buffer(link.shared, 8)
    me, other = link.role, 1 - link.role
    while not stop():
        if turn.value != me:
            _futex_wait(turn, other)
            continue  # woken, timed out or the word changed before we slept: look again
        if stamp.value:
            t.wake(max(0, _now_ns() - stamp.value) / 1e9)
        t.spin(cfg.spin_iters // 4)
        stamp.value = _now_ns()
        turn.value = other
        _futex_wake(turn, 1)
        t.tick()
    turn.value = other  # do not leave the partner waiting for a turn that never comes
    _futex_wake(turn, 1)
    del turn, stamp  # release the exported buffers before the mmap goes away


def fan_out(cfg, index, link: Link, stop, t: Telemetry) -> None:
    _wake_fan_out(cfg, link, stop, t, compute=False)


def fan_out_compute(cfg, index, link: Link, stop, t: Telemetry) -> None:
    _wake_fan_out(cfg, link, stop, t, compute=True)


def _wake_fan_out(cfg, link: Link, stop, t: Telemetry, compute: bool) -> None:
    """FUTEX_FAN_OUT and FAN_OUT_COMPUTE. The messenger (role 0) stamps the time, bumps the
    generation word and FUTEX_WAKEs all receivers. A receiver that was asleep when the
    generation moved records (now - stamp): the wake-to-run latency of a 1:N wake; a
    FAN_OUT_COMPUTE receiver then sleeps sleep_usec and multiplies matrices."""
    gen = ctypes.c_uint32.from_buffer(link.shared, 0)
    stamp = ctypes.c_uint64.from_buffer(link.shared, 8)
    t.r.is_messenger = link.role == 0
    if link.role == 0:
        while not stop():
            t.spin(cfg.spin_iters)
            stamp.value = _now_ns()
            gen.value = (gen.value + 1) & 0xFFFFFFFF
            _futex_wake(gen, INT_MAX)
            t.spin(256)
            t.tick()
        gen.value = (gen.value + 1) & 0xFFFFFFFF
        _futex_wake(gen, INT_MAX)
    else:
        mats = native.Matrices(max(2, int(math.sqrt(cfg.cache_kb * 1024 / 24))))  # 3 n x n u64
        seen = gen.value
        while not stop():
            woken = _futex_wait(gen, seen) == 0
            now = gen.value
            if now == seen:
                continue  # timed out or spurious
            if woken:
                t.wake(max(0, _now_ns() - stamp.value) / 1e9)
            seen = now
            if compute:
                time.sleep(cfg.sleep_usec / 1e6)
                for _ in range(cfg.operations):
                    t.hot(mats.multiply())
            t.tick()
    del gen, stamp


def sequence(cfg, index, link, stop, t: Telemetry) -> None:
    path = f"/tmp/ktstr-seq-{os.getpid()}"
    with open(path, "wb", buffering=0) as f:
        while not stop():
            for phase in cfg.phases:
                end = time.monotonic() + phase.seconds
                if phase.kind is PhaseKind.SLEEP:
                    _timed_sleep(t, phase.seconds)
                    t.tick()
                    continue
                while time.monotonic() < end and not stop():
                    if phase.kind is PhaseKind.SPIN:
                        t.spin(cfg.spin_iters // 4)
                    elif phase.kind is PhaseKind.YIELD:
                        before = time.monotonic()
                        os.sched_yield()
                        t.wake(time.monotonic() - before)
                    else:
                        _io_unit(f, t)
                    t.tick()
                if stop():
                    break
    os.unlink(path)


def fork_exit(cfg, index, link, stop, t: Telemetry) -> None:
    while not stop():
        before = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        t.wake(time.monotonic() - before)
        t.tick()


def nice_sweep(cfg, index, link, stop, t: Telemetry) -> None:
    """Step nice through -20..19 (negative values need CAP_SYS_NICE: skipped without it)."""
    nice = 0
    while not stop():
        t.spin(cfg.spin_iters // 2)
        nice = nice + 1 if nice < 19 else -20
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except PermissionError:
            pass
        before = time.monotonic()
        os.sched_yield()
        t.wake(time.monotonic() - before)
        t.tick()
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except PermissionError:
        pass


def affinity_churn(cfg, index, link, stop, t: Telemetry) -> None:
    allowed = sorted(os.sched_getaffinity(0))
    rng = random.Random(os.getpid())
    while not stop():
        t.spin(cfg.spin_iters)
        os.sched_setaffinity(0, {rng.choice(allowed)})
        before = time.monotonic()
        os.sched_yield()
        t.wake(time.monotonic() - before)
        t.tick()
    os.sched_setaffinity(0, allowed)


def policy_churn(cfg, index, link, stop, t: Telemetry) -> None:
    """OTHER -> BATCH -> IDLE -> FIFO(1) -> RR(1) -> EXT; a policy the kernel refuses (no
    CAP_SYS_NICE for RT, no sched_ext for EXT) is dropped from the cycle once."""
    policies = [(SCHED_OTHER, 0), (SCHED_BATCH, 0), (SCHED_IDLE, 0), (SCHED_FIFO, 1), (SCHED_RR, 1),
                (SCHED_EXT, 0)]
    i = 0
    while not stop():
        t.spin(cfg.spin_iters)
        i = (i + 1) % len(policies)
        try:
            os.sched_setscheduler(0, policies[i][0], os.sched_param(policies[i][1]))
        except OSError:
            if len(policies) > 1:
                del policies[i]
                i -= 1
        before = time.monotonic()
        os.sched_yield()
        t.wake(time.monotonic() - before)
        t.tick()
    try:
        os.sched_setscheduler(0, SCHED_OTHER, os.sched_param(0))
    except PermissionError:
        pass  # leaving SCHED_IDLE needs CAP_SYS_NICE; the worker exits right after


def page_fault_churn(cfg, index, link, stop, t: Telemetry) -> None:
    size = cfg.region_kb * 1024
    pages = max(1, size // mmap.PAGESIZE)
    region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        region.madvise(mmap.MADV_NOHUGEPAGE)  # one fault per 4 KiB page, not per 2 MiB
    except (AttributeError, OSError):
        pass  # no transparent huge pages in this kernel (EINVAL): 4 KiB pages anyway
    rng = random.Random(os.getpid())
    while not stop():
        for _ in range(cfg.touches_per_cycle):
            region[rng.randrange(pages) * mmap.PAGESIZE] = 1
        t.r.work_units += cfg.touches_per_cycle
        region.madvise(mmap.MADV_DONTNEED)  # the next touches fault again
        t.spin(cfg.spin_iters)
        t.tick()
    region.close()


def mutex_contention(cfg, index, link: Link, stop, t: Telemetry) -> None:
    """Contenders share a process-shared semaphore of value 1 (glibc: atomic fast path,
    FUTEX_WAIT when taken, FUTEX_WAKE(1) on release). A contended acquire is timed."""
    sem = ctypes.c_void_p.from_buffer(link.shared, SEM_OFFSET)
    sem_p = ctypes.byref(sem)
    while not stop():
        t.spin(cfg.work_iters)
        if _libc.sem_trywait(sem_p) != 0:
            before = _now_ns()
            deadline = before + int(STOP_POLL_S * 1e9)
            abs_ts = _Timespec(deadline // 1_000_000_000, deadline % 1_000_000_000)
            if _libc.sem_clockwait(sem_p, CLOCK_MONOTONIC, ctypes.byref(abs_ts)) != 0:
                continue  # timed out (or EINTR): look at stop() again
            t.wake((_now_ns() - before) / 1e9)
        t.spin(cfg.hold_iters)
        _libc.sem_post(sem_p)
        t.tick()
    del sem, sem_p


def custom(cfg, index, link, stop, t: Telemetry) -> None:
    cfg.custom(stop, t.r)
