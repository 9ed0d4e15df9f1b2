"""Work types, their parameters, worker configuration and the per-worker report."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Optional

from ktstr.workload import loops
from ktstr.workload.errors import WorkloadError
from ktstr.workload.links import LinkKind
from ktstr.workload.phases import Phase
from ktstr.workload.placement import AffinityIntent, MemPolicy, SchedPolicy


@dataclass(frozen=True)
class WorkTypeSpec:
    """Everything the framework knows about one work type, in one record: its name, the
    original ktstr's name for it, the WorkloadConfig parameters it reads (any other is
    refused), the loop its workers run, what its grouped workers share (which also sets the
    group size) and what a config of it must set."""

    name: str
    original_name: str
    params: tuple[str, ...]
    loop: Callable[..., None]
    link: LinkKind = LinkKind.NONE
    # An error message when cfg lacks what this type needs (None: cfg is complete).
    check: Optional[Callable[["WorkloadConfig"], Optional[str]]] = None


def _needs_phases(cfg: "WorkloadConfig") -> Optional[str]:
    return None if cfg.phases else "needs phases, e.g. phases=[Phase.spin(0.05), Phase.sleep(0.05)]"


def _needs_custom(cfg: "WorkloadConfig") -> Optional[str]:
    return None if callable(cfg.custom) else "needs custom=fn(stop, report): the worker's loop"


class WorkType(enum.Enum):
    """The work types. Each member is its record: adding one is a record here, its loop in
    loops.py and its case in tests/scenario/test_workload.py (tools/lint/extension_points.py
    checks that no other workload module names it)."""

    spec: WorkTypeSpec

    def __new__(cls, spec: WorkTypeSpec) -> "WorkType":
        member = object.__new__(cls)
        member._value_ = spec.name
        member.spec = spec
        return member

    # pure CPU
    SPIN_WAIT = WorkTypeSpec("spin_wait", "CpuSpin", ("spin_iters",), loops.spin_wait)
    # a little work, then sched_yield, forever
    YIELD_HEAVY = WorkTypeSpec("yield_heavy", "YieldHeavy", ("spin_iters",), loops.yield_heavy)
    # a spin unit, then sched_yield
    MIXED = WorkTypeSpec("mixed", "Mixed", ("spin_iters",), loops.mixed)
    # spin burst_ms, sleep sleep_ms
    BURSTY = WorkTypeSpec("bursty", "Bursty", ("spin_iters", "burst_ms", "sleep_ms"), loops.bursty)
    # IO-like: 16 KiB written to tmpfs, 100 us sleep
    SLEEP_HEAVY = WorkTypeSpec("sleep_heavy", "IoSync", (), loops.sleep_heavy)
    # pairs bounce a byte through pipes (wake latency)
    PIPE_PINGPONG = WorkTypeSpec("pipe_pingpong", "PipeIo", ("spin_iters",), loops.pingpong, LinkKind.PIPE)
    # pairs wake each other through eventfds (no original name)
    EVENTFD_PINGPONG = WorkTypeSpec("eventfd_pingpong", "", ("spin_iters",), loops.pingpong, LinkKind.EVENTFD)
    # pairs hand a turn word back and forth (FUTEX_WAKE)
    FUTEX_PINGPONG = WorkTypeSpec("futex_pingpong", "FutexPingPong", ("spin_iters",), loops.futex_pingpong,
                                  LinkKind.FUTEX)
    # strided read-modify-write over a cache_kb buffer
    CACHE_PRESSURE = WorkTypeSpec("cache_pressure", "CachePressure", ("cache_kb", "stride"), loops.cache_pressure)
    # a cache pass, then sched_yield (timed)
    CACHE_YIELD = WorkTypeSpec("cache_yield", "CacheYield", ("cache_kb", "stride"), loops.cache_yield)
    # a cache pass, then a pipe exchange with the partner
    CACHE_PIPE = WorkTypeSpec("cache_pipe", "CachePipe", ("cache_kb", "stride"), loops.cache_pipe, LinkKind.PIPE)
    # one messenger FUTEX_WAKEs fan_out receivers
    FUTEX_FAN_OUT = WorkTypeSpec("futex_fan_out", "FutexFanOut", ("fan_out", "spin_iters"), loops.fan_out,
                                 LinkKind.FANOUT)
    # the messenger wakes fan_out workers that sleep, then compute
    FAN_OUT_COMPUTE = WorkTypeSpec("fan_out_compute", "FanOutCompute",
                                   ("fan_out", "cache_kb", "operations", "sleep_usec", "spin_iters"),
                                   loops.fan_out_compute, LinkKind.FANOUT)
    # phases (spin/sleep/yield/io) in a loop
    SEQUENCE = WorkTypeSpec("sequence", "Sequence", ("phases", "spin_iters"), loops.sequence,
                            check=_needs_phases)
    # fork a child that exits, wait for it
    FORK_EXIT = WorkTypeSpec("fork_exit", "ForkExit", (), loops.fork_exit)
    # spin, then step nice through -20..19
    NICE_SWEEP = WorkTypeSpec("nice_sweep", "NiceSweep", ("spin_iters",), loops.nice_sweep)
    # spin, then move to a random allowed CPU
    AFFINITY_CHURN = WorkTypeSpec("affinity_churn", "AffinityChurn", ("spin_iters",), loops.affinity_churn)
    # spin, then cycle SCHED_OTHER/BATCH/IDLE(/FIFO/RR/EXT)
    POLICY_CHURN = WorkTypeSpec("policy_churn", "PolicyChurn", ("spin_iters",), loops.policy_churn)
    # write-fault random pages of a region, drop them
    PAGE_FAULT_CHURN = WorkTypeSpec("page_fault_churn", "PageFaultChurn",
                                    ("region_kb", "touches_per_cycle", "spin_iters"), loops.page_fault_churn)
    # contenders share one futex-based lock
    MUTEX_CONTENTION = WorkTypeSpec("mutex_contention", "MutexContention", ("contenders", "hold_iters", "work_iters"),
                                    loops.mutex_contention, LinkKind.MUTEX)
    # the test's own function is the worker's loop
    CUSTOM = WorkTypeSpec("custom", "Custom", ("custom",), loops.custom, check=_needs_custom)

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


# The original ktstr's 20 names (its ALL_NAMES) -> ours, read off the records.
ORIGINAL_NAMES = {wt.spec.original_name: wt for wt in WorkType if wt.spec.original_name}


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
    # Work type parameters (each WorkTypeSpec.params says which its type reads).
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
        link = self.work_type.spec.link
        if link is LinkKind.FANOUT:
            return self.fan_out + 1
        if link is LinkKind.MUTEX:
            return self.contenders
        return 1 if link is LinkKind.NONE else 2

    def with_params(self, **params: Any) -> "WorkloadConfig":
        """Set work type parameters, refusing the ones this work type does not read."""
        allowed = self.work_type.spec.params
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
        check = self.work_type.spec.check
        missing = check(self) if check else None
        if missing:
            raise WorkloadError(f"{self.work_type.value} {missing}")
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
    wall_time_ns: int = 0            # from the parent's start command to the stop being seen
    start_delay_ns: int = 0          # from the start command until the worker first ran
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
