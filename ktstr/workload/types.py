"""Work types, worker configuration and the per-worker report."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class WorkType(enum.Enum):
    SPIN_WAIT = "spin_wait"            # pure CPU
    YIELD_HEAVY = "yield_heavy"        # a little work, then sched_yield, forever
    BURSTY = "bursty"                  # spin burst_ms, sleep sleep_ms
    SLEEP_HEAVY = "sleep_heavy"        # IO-like: short write to tmpfs, 100 us sleep
    PIPE_PINGPONG = "pipe_pingpong"    # pairs bounce a byte through pipes (wake latency)
    EVENTFD_PINGPONG = "eventfd_pingpong"  # pairs wake each other through eventfds
    FUTEX_PINGPONG = "futex_pingpong"  # pairs hand a turn word back and forth (FUTEX_WAKE)
    CACHE_PRESSURE = "cache_pressure"  # strided writes over a buffer
    FORK_EXIT = "fork_exit"            # fork a child that exits, wait for it
    NICE_SWEEP = "nice_sweep"          # spin, then step nice through 0..19
    AFFINITY_CHURN = "affinity_churn"  # spin, then move to a random allowed CPU
    POLICY_CHURN = "policy_churn"      # spin, then cycle SCHED_OTHER/BATCH/IDLE/EXT

    @property
    def group_size(self) -> int:
        return 2 if self in _PAIRED else 1

    @classmethod
    def from_name(cls, name: str) -> "WorkType":
        key = name.strip().lower().replace("-", "_")
        for wt in cls:
            if wt.value == key or wt.name.lower() == key:
                return wt
        raise ValueError(f"unknown work type {name!r}; one of: {', '.join(w.value for w in cls)}")


_PAIRED = frozenset({WorkType.PIPE_PINGPONG, WorkType.EVENTFD_PINGPONG, WorkType.FUTEX_PINGPONG})


@dataclass
class WorkloadConfig:
    num_workers: int = 1
    work_type: WorkType = WorkType.SPIN_WAIT
    cpus: list[int] | None = None   # sched_setaffinity mask; None = inherit the cpuset
    nice: int = 0
    burst_ms: float = 20.0           # BURSTY
    sleep_ms: float = 20.0           # BURSTY
    spin_iters: int = 2000           # size of one spin unit
    name: str = ""                   # the workers' comm is "<name>/<index>" (default: work type)

    def comm(self, index: int) -> str:
        """What the worker calls itself (15 bytes: the kernel's TASK_COMM_LEN), so sched_ext
        dumps, traces and ps name it instead of showing another "init"."""
        suffix = f"/{index}"
        return (self.name or self.work_type.value)[: 15 - len(suffix)] + suffix

    def validate(self) -> None:
        if self.num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {self.num_workers}")
        if self.num_workers % self.work_type.group_size:
            raise ValueError(f"{self.work_type.value} runs in groups of {self.work_type.group_size}: "
                             f"num_workers={self.num_workers} is not a multiple")


@dataclass
class WorkerReport:
    pid: int
    work_type: str
    iterations: int = 0
    cpu_time_ns: int = 0
    wall_time_ns: int = 0
    cpus_used: list[int] = field(default_factory=list)
    migrations: int = 0
    max_gap_ms: float = 0.0
    max_gap_cpu: int = -1
    max_gap_at_ms: float = 0.0
    wake_latencies_us: list[float] = field(default_factory=list)
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
        return cls(**d)
