"""The host-side sampler: a thread that reads each vCPU's run queue from guest memory at a
fixed rate while the VM runs, independent of the guest's cooperation.

Per sample and CPU: rq->nr_running, rq->scx.nr_running, the local DSQ depth, the running
task (pid, comm, the CPUs it may run on) and whether it is the idle task, rq->clock, and the oldest task that is
runnable but not running (head of rq->scx.runnable_list, whose runnable_at is in jiffies).
Globally: jiffies and the sched_ext enable state. A wedged guest changes nothing here: the
reads are plain loads from the shared RAM, so the last samples show what each CPU was doing
when it stopped.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional

from ktstr.errors import KtstrError
from ktstr.monitor.memory import KernelMemory, LayoutMismatch, MemoryReadError


class SamplerError(KtstrError, ValueError):
    """A sampler asked for an impossible rate."""


# Sampling rates: TCG runs the guest ~10-50x slower, so 10 Hz sees as much guest time per
# sample as 100 Hz does on KVM, for a tenth of the host CPU.
DEFAULT_HZ_TCG = 10.0
DEFAULT_HZ_KVM = 100.0
# How long to wait for the kernel to come up (linux_banner readable, per-CPU areas set)
# before saying the layout does not match. Host seconds; TCG boots take ~2-4 s.
DEFAULT_ATTACH_TIMEOUT_S = 60.0
# A memory of bounded size: at 100 Hz this is ~10 minutes of samples.
MAX_SAMPLES = 60_000


@dataclass
class CpuSample:
    cpu: int
    nr_running: int
    rq_clock: int  # ns
    curr_pid: int
    curr_comm: str
    idle: bool  # rq->curr is the CPU's idle task
    scx_nr_running: Optional[int] = None
    local_dsq: Optional[int] = None
    oldest_wait_ms: Optional[float] = None  # runnable, not running, longest (sched_ext tasks)
    oldest_pid: Optional[int] = None
    oldest_comm: Optional[str] = None
    # The running task's allowed CPUs (its cpus_ptr, bit n = CPU n); None: idle, or a kernel
    # without the field. The imbalance check compares a CPU with these CPUs only (its cpuset).
    allowed: Optional[int] = None
    error: str = ""  # this CPU could not be read in this sample (e.g. torn pointer)

    def brief(self) -> str:
        if self.error:
            return f"cpu{self.cpu}: unreadable ({self.error})"
        run = "idle" if self.idle else f"{self.curr_comm}[{self.curr_pid}]"
        parts = [f"cpu{self.cpu}: running {run}", f"nr_running={self.nr_running}"]
        if self.scx_nr_running is not None:
            parts.append(f"scx.nr_running={self.scx_nr_running}")
        if self.local_dsq is not None:
            parts.append(f"local_dsq={self.local_dsq}")
        if self.oldest_wait_ms is not None:
            parts.append(f"oldest runnable {self.oldest_comm}[{self.oldest_pid}] waiting "
                         f"{self.oldest_wait_ms / 1000:.2f} s")
        parts.append(f"rq_clock={self.rq_clock / 1e9:.3f} s")
        return ", ".join(parts)


@dataclass
class Sample:
    t: float  # host seconds since the VM started
    jiffies: int
    scx_state: Optional[str]  # ENABLED, DISABLED, ... (None: kernel without sched_ext)
    test: str  # the test running in the guest at this time ("" before the first)
    cpus: list[CpuSample] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["t"] = round(self.t, 4)
        return d


class RunQueueReader:
    """One sample's worth of reads, with the layout's offsets resolved once."""

    def __init__(self, kmem: KernelMemory, nr_cpus: int) -> None:
        self.k = kmem
        self.nr_cpus = nr_cpus
        lay = kmem.layout
        self.runqueues = lay.symbol("runqueues")
        self.hz = lay.hz
        self.o = {name: lay.off(name) for name in (
            "rq.nr_running", "rq.clock", "rq.curr", "rq.idle", "task_struct.pid", "task_struct.comm")}
        self.comm_size = lay.fields["task_struct.comm"]["size"]  # type: ignore[index]
        self.scx = lay.has_sched_ext
        if self.scx:
            self.o["rq.scx.nr_running"] = lay.off("rq.scx.nr_running")
            self.o["rq.scx.local_dsq.nr"] = lay.off("rq.scx.local_dsq.nr")
        self.mask_words = (nr_cpus + 63) // 64
        self.allowed = lay.has_field("task_struct.cpus_ptr")
        if self.allowed:
            self.o["task_struct.cpus_ptr"] = lay.off("task_struct.cpus_ptr")
        self.waits = self.scx and all(lay.has_field(f) for f in (
            "rq.scx.runnable_list", "task_struct.scx.runnable_node", "task_struct.scx.runnable_at"))
        if self.waits:
            for f in ("rq.scx.runnable_list", "task_struct.scx.runnable_node", "task_struct.scx.runnable_at"):
                self.o[f] = lay.off(f)
        state_sym = lay.enable_state_symbol
        self.state_addr = state_sym
        self.state_names = {v: k for k, v in lay.enable_states.items()}

    def ready(self) -> bool:
        """The per-CPU areas are set up: every CPU's run queue is in the direct map. Before
        setup_per_cpu_areas() the offsets are zero or point at the image's per-CPU template
        (BOOT_PERCPU_OFFSET), which is not a run queue."""
        addrs = [self.runqueues + off for off in self.k.per_cpu_offsets(self.nr_cpus)]
        return all(self.k.in_direct_map(a) for a in addrs)

    def sample(self, t: float, test: str) -> Sample:
        k = self.k
        jiffies = k.jiffies()
        state: Optional[str] = None
        if self.state_addr is not None:
            raw = k.s32(self.state_addr)
            state = self.state_names.get(raw, str(raw))
        s = Sample(t, jiffies, state, test)
        # Re-read every time (16 bytes a CPU): a sample never trusts an offset read while the
        # guest was still setting its per-CPU areas up.
        offsets = k.per_cpu_offsets(self.nr_cpus)
        for cpu, off in enumerate(offsets):
            rq = self.runqueues + off
            try:
                if not k.in_direct_map(rq):
                    raise MemoryReadError(f"run queue address {rq:#x} is outside the direct map")
                s.cpus.append(self._cpu(cpu, rq, jiffies))
            except MemoryReadError as exc:
                s.cpus.append(CpuSample(cpu, 0, 0, 0, "", False, error=str(exc)))
        return s

    def _cpu(self, cpu: int, rq: int, jiffies: int) -> CpuSample:
        k, o = self.k, self.o
        curr = k.u64(rq + o["rq.curr"])
        idle_task = k.u64(rq + o["rq.idle"])
        c = CpuSample(
            cpu=cpu,
            nr_running=k.u32(rq + o["rq.nr_running"]),
            rq_clock=k.u64(rq + o["rq.clock"]),
            curr_pid=k.s32(curr + o["task_struct.pid"]),
            curr_comm=k.cstring(curr + o["task_struct.comm"], self.comm_size),
            idle=curr == idle_task,
        )
        if self.allowed and not c.idle:
            try:
                words = k.read(k.u64(curr + o["task_struct.cpus_ptr"]), 8 * self.mask_words)
                c.allowed = int.from_bytes(words, "little") & ((1 << self.nr_cpus) - 1) or None
            except MemoryReadError:  # a task exiting under the read: its CPUs stay unknown
                c.allowed = None
        if self.scx:
            c.scx_nr_running = k.u32(rq + o["rq.scx.nr_running"])
            c.local_dsq = k.u32(rq + o["rq.scx.local_dsq.nr"])
        if self.waits:
            head = rq + o["rq.scx.runnable_list"]
            first = k.u64(head)  # list_head.next is its first member
            if first != head and first:
                task = first - o["task_struct.scx.runnable_node"]
                runnable_at = k.u64(task + o["task_struct.scx.runnable_at"])
                delta = (jiffies - runnable_at) & 0xFFFFFFFFFFFFFFFF
                if delta < (1 << 62):  # a torn read gives nonsense; keep only sane ages
                    c.oldest_wait_ms = delta * 1000.0 / self.hz
                    c.oldest_pid = k.s32(task + o["task_struct.pid"])
                    c.oldest_comm = k.cstring(task + o["task_struct.comm"], self.comm_size)
        return c


@dataclass
class MonitorStatus:
    attached: bool = False
    attach_s: Optional[float] = None  # host seconds from start to the first sample
    error: str = ""  # why it never attached or stopped reading (stated in the report)
    stopped_vm: str = ""  # the reason when the monitor ended the run itself
    stopped_at: Optional[float] = None


class Sampler:
    """Runs `RunQueueReader.sample` every 1/hz seconds on its own thread.

    `observe(sample)` is called for every sample (the live checks); returning a non-empty
    reason asks for the VM to be stopped: `stop_vm(reason)` is called once. `current_test`
    names the test running in the guest. `stop()` ends the thread (called when the VM is
    gone); it returns within one period."""

    def __init__(self, kmem: KernelMemory, nr_cpus: int, hz: float,
                 current_test: Callable[[], str] = lambda: "",
                 observe: Callable[[Sample], str] = lambda s: "",
                 stop_vm: Callable[[str], None] = lambda reason: None,
                 attach_timeout_s: float = DEFAULT_ATTACH_TIMEOUT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if hz <= 0:
            raise SamplerError(f"sampling rate must be > 0 Hz, got {hz}")
        self.kmem = kmem
        self.nr_cpus = nr_cpus
        self.period = 1.0 / hz
        self.hz = hz
        self.current_test = current_test
        self.observe = observe
        self.stop_vm = stop_vm
        self.attach_timeout_s = attach_timeout_s
        self.clock = clock
        self.samples: list[Sample] = []
        self.status = MonitorStatus()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._t0 = clock()

    def start(self) -> None:
        self._t0 = self.clock()
        self._thread = threading.Thread(target=self._run, name="ktstr-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _elapsed(self) -> float:
        return self.clock() - self._t0

    def _run(self) -> None:
        try:
            reader = self._attach()
            if reader is None:
                return
            self._loop(reader)
        except Exception as exc:  # noqa: BLE001 - a monitor bug must not take the run's verdict with it
            self.status.error = f"monitor stopped: {type(exc).__name__}: {exc}"

    def _attach(self) -> Optional[RunQueueReader]:
        last = ""
        while not self._stop.is_set():
            try:
                self.kmem.attach()
                reader = RunQueueReader(self.kmem, self.nr_cpus)
                if reader.ready():
                    self.status.attached = True
                    self.status.attach_s = self._elapsed()
                    return reader
                last = "the guest's per-CPU areas were never set up (__per_cpu_offset still zero)"
            except LayoutMismatch as exc:
                last = str(exc)
                if exc.definitive:
                    self.status.error = last
                    return None
            except MemoryReadError as exc:
                last = str(exc)
            if self._elapsed() > self.attach_timeout_s:
                self.status.error = f"not attached after {self.attach_timeout_s:g} s: {last}"
                return None
            self._stop.wait(self.period)
        if not self.status.attached:
            self.status.error = f"the VM ended before the monitor could attach ({last or 'kernel not up yet'})"
        return None

    def _loop(self, reader: RunQueueReader) -> None:
        next_at = self.clock()
        while not self._stop.is_set():
            sample = reader.sample(self._elapsed(), self.current_test())
            if len(self.samples) < MAX_SAMPLES:
                self.samples.append(sample)
            why = self.observe(sample)
            if why and not self.status.stopped_vm:
                self.status.stopped_vm = why
                self.status.stopped_at = sample.t
                self.stop_vm(why)
            next_at += self.period
            delay = next_at - self.clock()
            if delay < 0:  # fell behind (loaded host): skip, do not burst
                next_at = self.clock()
                delay = 0
            self._stop.wait(delay)


__all__ = ["CpuSample", "Sample", "Sampler", "RunQueueReader", "MonitorStatus", "LayoutMismatch",
           "DEFAULT_HZ_TCG", "DEFAULT_HZ_KVM"]
