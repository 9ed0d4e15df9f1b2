"""Work types, their parameters, worker configuration and the per-worker report."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Optional

from ktstr.workload.errors import WorkloadError
from ktstr.workload.placement import AffinityIntent, MemPolicy, SchedPolicy


class WorkType(enum.Enum):
    SPIN_WAIT = "spin_wait"            # pure CPU (the original's CpuSpin)
    YIELD_HEAVY = "yield_heavy"        # a little work, then sched_yield, forever
    MIXED = "mixed"                    # a spin unit, then sched_yield
    BURSTY = "bursty"                  # spin burst_ms, sleep sleep_ms
    SLEEP_HEAVY = "sleep_heavy"        # IO-like: 16 KiB written to tmpfs, 100 us sleep (IoSync)
    PIPE_PINGPONG = "pipe_pingpong"    # pairs bounce a byte through pipes (wake latency; PipeIo)
    EVENTFD_PINGPONG = "eventfd_pingpong"  # pairs wake each other through eventfds
    FUTEX_PINGPONG = "futex_pingpong"  # pairs hand a turn word back and forth (FUTEX_WAKE)
    CACHE_PRESSURE = "cache_pressure"  # strided read-modify-write over a cache_kb buffer
    CACHE_YIELD = "cache_yield"        # a cache pass, then sched_yield (timed)
    CACHE_PIPE = "cache_pipe"          # a cache pass, then a pipe exchange with the partner
    FUTEX_FAN_OUT = "futex_fan_out"    # one messenger FUTEX_WAKEs fan_out receivers
    FAN_OUT_COMPUTE = "fan_out_compute"  # messenger wakes fan_out workers that sleep then compute
    SEQUENCE = "sequence"              # phases (spin/sleep/yield/io) in a loop
    FORK_EXIT = "fork_exit"            # fork a child that exits, wait for it
    NICE_SWEEP = "nice_sweep"          # spin, then step nice through -20..19
    AFFINITY_CHURN = "affinity_churn"  # spin, then move to a random allowed CPU
    POLICY_CHURN = "policy_churn"      # spin, then cycle SCHED_OTHER/BATCH/IDLE(/FIFO/RR/EXT)
    PAGE_FAULT_CHURN = "page_fault_churn"  # write-fault random pages of a region, drop them
    MUTEX_CONTENTION = "mutex_contention"  # contenders share one futex-based lock
    CUSTOM = "custom"                  # the test's own function is the worker's loop

    @classmethod
    def from_name(cls, name: str) -> "WorkType":
        """Our names (spin_wait, spin-wait) and the original ktstr's (CpuSpin, IoSync, ...)."""
        key = name.strip().replace("-", "_")
        if key in ORIGINAL_NAMES:
            return ORIGINAL_NAMES[key]
        key = key.lower()
        for wt in cls:
            if wt.value == key or wt.name.lower() == key or wt.value.replace("_", "") == key:
                return wt
        raise WorkloadError(f"unknown work type {name!r}; one of: {', '.join(w.value for w in cls)} "
                         f"(or the original ktstr's names: {', '.join(ORIGINAL_NAMES)})")


# The original ktstr's 20 names (its ALL_NAMES) -> ours.
ORIGINAL_NAMES = {
    "CpuSpin": WorkType.SPIN_WAIT, "YieldHeavy": WorkType.YIELD_HEAVY, "Mixed": WorkType.MIXED,
    "IoSync": WorkType.SLEEP_HEAVY, "Bursty": WorkType.BURSTY, "PipeIo": WorkType.PIPE_PINGPONG,
    "FutexPingPong": WorkType.FUTEX_PINGPONG, "CachePressure": WorkType.CACHE_PRESSURE,
    "CacheYield": WorkType.CACHE_YIELD, "CachePipe": WorkType.CACHE_PIPE,
    "FutexFanOut": WorkType.FUTEX_FAN_OUT, "FanOutCompute": WorkType.FAN_OUT_COMPUTE,
    "Sequence": WorkType.SEQUENCE, "ForkExit": WorkType.FORK_EXIT, "NiceSweep": WorkType.NICE_SWEEP,
    "AffinityChurn": WorkType.AFFINITY_CHURN, "PolicyChurn": WorkType.POLICY_CHURN,
    "PageFaultChurn": WorkType.PAGE_FAULT_CHURN, "MutexContention": WorkType.MUTEX_CONTENTION,
    "Custom": WorkType.CUSTOM,
}

_PAIRED = frozenset({WorkType.PIPE_PINGPONG, WorkType.EVENTFD_PINGPONG, WorkType.FUTEX_PINGPONG,
                     WorkType.CACHE_PIPE})
_FAN_OUT = frozenset({WorkType.FUTEX_FAN_OUT, WorkType.FAN_OUT_COMPUTE})

# The parameters each work type reads (WorkloadConfig fields); any other is refused.
PARAMS: dict[WorkType, tuple[str, ...]] = {
    WorkType.SPIN_WAIT: ("spin_iters",),
    WorkType.YIELD_HEAVY: ("spin_iters",),
    WorkType.MIXED: ("spin_iters",),
    WorkType.BURSTY: ("spin_iters", "burst_ms", "sleep_ms"),
    WorkType.SLEEP_HEAVY: (),
    WorkType.PIPE_PINGPONG: ("spin_iters",),
    WorkType.EVENTFD_PINGPONG: ("spin_iters",),
    WorkType.FUTEX_PINGPONG: ("spin_iters",),
    WorkType.CACHE_PRESSURE: ("cache_kb", "stride"),
    WorkType.CACHE_YIELD: ("cache_kb", "stride"),
    WorkType.CACHE_PIPE: ("cache_kb", "stride"),
    WorkType.FUTEX_FAN_OUT: ("fan_out", "spin_iters"),
    WorkType.FAN_OUT_COMPUTE: ("fan_out", "cache_kb", "operations", "sleep_usec", "spin_iters"),
    WorkType.SEQUENCE: ("phases", "spin_iters"),
    WorkType.FORK_EXIT: (),
    WorkType.NICE_SWEEP: ("spin_iters",),
    WorkType.AFFINITY_CHURN: ("spin_iters",),
    WorkType.POLICY_CHURN: ("spin_iters",),
    WorkType.PAGE_FAULT_CHURN: ("region_kb", "touches_per_cycle", "spin_iters"),
    WorkType.MUTEX_CONTENTION: ("contenders", "hold_iters", "work_iters"),
    WorkType.CUSTOM: ("custom",),
}


class PhaseKind(enum.Enum):
    SPIN = "spin"
    SLEEP = "sleep"
    YIELD = "yield"
    IO = "io"


@dataclass(frozen=True)
class Phase:
    """One phase of a SEQUENCE worker: `seconds` of spinning, sleeping, yielding or IO."""

    kind: PhaseKind
    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise WorkloadError(f"phase {self.kind.value}: seconds must be > 0, got {self.seconds}")

    @staticmethod
    def spin(seconds: float) -> "Phase":
        return Phase(PhaseKind.SPIN, seconds)

    @staticmethod
    def sleep(seconds: float) -> "Phase":
        return Phase(PhaseKind.SLEEP, seconds)

    @staticmethod
    def yield_(seconds: float) -> "Phase":
        return Phase(PhaseKind.YIELD, seconds)

    @staticmethod
    def io(seconds: float) -> "Phase":
        return Phase(PhaseKind.IO, seconds)


# A CUSTOM worker: fn(stop, report) runs until stop() is true and may fill the report
# (work_units, iterations, wake samples); the framework still forks, places and stops it.
CustomFn = Callable[[Callable[[], bool], "WorkerReport"], None]


@dataclass
class WorkloadConfig:
    num_workers: int = 1
    work_type: WorkType = WorkType.SPIN_WAIT
    cpus: list[int] | None = None   # sched_setaffinity mask; None = inherit the cpuset
    nice: int = 0                    # may be negative (the guest agent is root)
    policy: SchedPolicy = field(default_factory=SchedPolicy.other)
    mem_policy: MemPolicy = field(default_factory=MemPolicy.default)
    affinity: AffinityIntent | None = None  # resolved per worker against `pool`
    pool: list[int] | None = None    # the CPUs the affinity intent picks from (the cpuset)
    llc_groups: tuple[tuple[int, ...], ...] = ()  # for AffinityIntent.llc_aligned
    name: str = ""                   # the workers' comm is "<name>/<index>" (default: work type)
    # Work type parameters (PARAMS says which type reads which).
    spin_iters: int = 2000           # size of one spin unit (work_units counts them)
    burst_ms: float = 20.0           # BURSTY
    sleep_ms: float = 20.0           # BURSTY
    cache_kb: int = 32               # CACHE_*, FAN_OUT_COMPUTE (its 3 matrices' footprint)
    stride: int = 64                 # CACHE_*
    fan_out: int = 4                 # FUTEX_FAN_OUT, FAN_OUT_COMPUTE: receivers per messenger
    operations: int = 5              # FAN_OUT_COMPUTE: matrix multiplies per wake
    sleep_usec: int = 100            # FAN_OUT_COMPUTE: sleep after each wake
    phases: tuple[Phase, ...] = ()   # SEQUENCE
    region_kb: int = 4096            # PAGE_FAULT_CHURN
    touches_per_cycle: int = 256     # PAGE_FAULT_CHURN
    contenders: int = 4              # MUTEX_CONTENTION: workers sharing one lock
    hold_iters: int = 256            # MUTEX_CONTENTION: spin while holding
    work_iters: int = 1024           # MUTEX_CONTENTION: spin between acquisitions
    custom: Optional[CustomFn] = None  # CUSTOM

    def comm(self, index: int) -> str:
        """What the worker calls itself (15 bytes: the kernel's TASK_COMM_LEN), so sched_ext
        dumps, traces and ps name it instead of showing another "init"."""
        suffix = f"/{index}"
        return (self.name or self.work_type.value)[: 15 - len(suffix)] + suffix

    @property
    def group_size(self) -> int:
        """Workers that run together (a pair, a messenger and its receivers, a lock's
        contenders); num_workers must be a multiple."""
        if self.work_type in _PAIRED:
            return 2
        if self.work_type in _FAN_OUT:
            return self.fan_out + 1
        if self.work_type is WorkType.MUTEX_CONTENTION:
            return self.contenders
        return 1

    def with_params(self, **params: Any) -> "WorkloadConfig":
        """Set work type parameters, refusing the ones this work type does not read."""
        allowed = PARAMS[self.work_type]
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise WorkloadError(f"{self.work_type.value} takes no parameter {', '.join(unknown)}; "
                             f"its parameters: {', '.join(allowed) or 'none'}")
        for k, v in params.items():
            setattr(self, k, tuple(v) if k == "phases" else v)
        return self

    def validate(self) -> None:
        if self.num_workers < 1:
            raise WorkloadError(f"num_workers must be >= 1, got {self.num_workers}")
        positive = ("spin_iters", "cache_kb", "stride", "fan_out", "operations", "region_kb",
                    "touches_per_cycle", "contenders")
        for name in positive:
            if getattr(self, name) < 1:
                raise WorkloadError(f"{self.work_type.value}: {name} must be >= 1, got {getattr(self, name)}")
        if self.num_workers % self.group_size:
            raise WorkloadError(f"{self.work_type.value} runs in groups of {self.group_size}: "
                             f"num_workers={self.num_workers} is not a multiple")
        if self.work_type is WorkType.SEQUENCE and not self.phases:
            raise WorkloadError("sequence needs phases, e.g. phases=[Phase.spin(0.05), Phase.sleep(0.05)]")
        if self.work_type is WorkType.CUSTOM and not callable(self.custom):
            raise WorkloadError("custom needs custom=fn(stop, report): the worker's loop")
        if not -20 <= self.nice <= 19:
            raise WorkloadError(f"nice must be in -20..19, got {self.nice}")
        self.policy.validate()
        self.mem_policy.validate()


@dataclass
class Migration:
    at_ms: float
    from_cpu: int
    to_cpu: int


MAX_MIGRATION_RECORDS = 1000


@dataclass
class WorkerReport:
    pid: int
    work_type: str
    iterations: int = 0              # outer-loop iterations
    work_units: int = 0              # spin units (and cache/compute passes) done
    cpu_time_ns: int = 0
    wall_time_ns: int = 0
    cpus_used: list[int] = field(default_factory=list)
    migrations: int = 0
    migration_log: list[dict] = field(default_factory=list)  # first MAX_MIGRATION_RECORDS
    max_gap_ms: float = 0.0
    max_gap_cpu: int = -1
    max_gap_at_ms: float = 0.0
    wake_latencies_us: list[float] = field(default_factory=list)  # reservoir sample
    wake_sample_total: int = 0       # every observation, also the ones the reservoir dropped
    schedstat_run_delay_ns: int = -1  # deltas of /proc/self/schedstat (-1: not available)
    schedstat_run_count: int = -1
    schedstat_cpu_time_ns: int = -1
    numa_pages: dict[str, int] = field(default_factory=dict)  # node -> pages (numa_maps)
    is_messenger: bool = False
    hot_loop: str = ""               # "native" (libktstr_hot.so), "python" (fallback), "": none ran
    completed: bool = True
    exit_info: str = ""              # set when the worker did not report normally

    @property
    def off_cpu_pct(self) -> float:
        if self.wall_time_ns <= 0:
            return 0.0
        return max(0.0, 100.0 * (self.wall_time_ns - self.cpu_time_ns) / self.wall_time_ns)

    def to_json(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, d: dict) -> "WorkerReport":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
