"""Declarative scenario pieces: cpusets, cgroup definitions, ops, hold times, steps."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Union

from ktstr.errors import KtstrError
from ktstr.topology import SysTopology
from ktstr.workload.placement import AffinityIntent, MemPolicy, SchedPolicy
from ktstr.workload.types import WorkloadConfig, WorkType


class ScenarioError(KtstrError, ValueError):
    """A scenario that cannot run as written (a cpuset, payload or hold out of range); the message says which."""


@dataclass(frozen=True)
class CpusetSpec:
    """Which CPUs, resolved against the guest's topology when the scenario runs."""

    kind: str
    arg: tuple = ()

    @staticmethod
    def all() -> "CpusetSpec":
        return CpusetSpec("all")

    @staticmethod
    def llc(index: int) -> "CpusetSpec":
        return CpusetSpec("llc", (index,))

    @staticmethod
    def node(index: int) -> "CpusetSpec":
        return CpusetSpec("node", (index,))

    @staticmethod
    def cpus(*cpus: int) -> "CpusetSpec":
        return CpusetSpec("cpus", tuple(cpus))

    @staticmethod
    def split(part: int, parts: int) -> "CpusetSpec":
        """The part-th of `parts` disjoint, contiguous, near-equal slices of all CPUs."""
        return CpusetSpec("split", (part, parts))

    @staticmethod
    def range(start_frac: float, end_frac: float) -> "CpusetSpec":
        """CPUs [len*start_frac, len*end_frac) of all CPUs, e.g. range(0, 0.5) = first half."""
        if not (0.0 <= start_frac < end_frac <= 1.0):
            raise ScenarioError(f"cpuset range({start_frac}, {end_frac}): need 0 <= start < end <= 1")
        return CpusetSpec("range", (start_frac, end_frac))

    @staticmethod
    def overlap(part: int, parts: int, frac: float) -> "CpusetSpec":
        """split(part, parts) widened on both sides by frac of a slice: neighbouring cgroups
        share CPUs (frac 0 = split, 1 = each reaches into its neighbours' whole slices)."""
        if not 0.0 <= frac <= 1.0:
            raise ScenarioError(f"cpuset overlap frac {frac}: need 0 <= frac <= 1")
        return CpusetSpec("overlap", (part, parts, frac))

    def resolve(self, topo: SysTopology) -> list[int]:
        all_cpus = topo.all_cpuset()
        if self.kind == "all":
            return all_cpus
        if self.kind == "llc":
            return topo.cpus_in_llc(self.arg[0] % topo.llcs())
        if self.kind == "node":
            return topo.cpus_in_node(self.arg[0] % topo.numa_nodes())
        if self.kind == "cpus":
            bad = [c for c in self.arg if c not in all_cpus]
            if bad:
                raise ScenarioError(f"cpuset {list(self.arg)}: cpus {bad} do not exist (guest has {all_cpus})")
            return sorted(self.arg)
        if self.kind in ("split", "overlap"):
            part, parts = self.arg[:2]
            if not 0 <= part < parts:
                raise ScenarioError(f"cpuset {self.kind}({part}, {parts}): part must be in 0..{parts - 1}")
            if parts > len(all_cpus):
                raise ScenarioError(f"cannot split {len(all_cpus)} cpus into {parts} non-empty cpusets")
            lo = part * len(all_cpus) // parts
            hi = (part + 1) * len(all_cpus) // parts
            if self.kind == "overlap":
                widen = int((len(all_cpus) // parts) * self.arg[2])
                lo, hi = max(0, lo - widen), min(len(all_cpus), hi + widen)
            return all_cpus[lo:hi]
        if self.kind == "range":
            start, end = self.arg
            lo, hi = int(len(all_cpus) * start), int(len(all_cpus) * end)
            if hi <= lo:
                raise ScenarioError(f"cpuset range({start}, {end}) of {len(all_cpus)} cpus is empty")
            return all_cpus[lo:hi]
        raise ScenarioError(f"unknown cpuset kind {self.kind!r}")


CpusetLike = Union[CpusetSpec, list, tuple, None]


def as_cpuset_spec(value: CpusetLike) -> Optional[CpusetSpec]:
    if value is None or isinstance(value, CpusetSpec):
        return value
    return CpusetSpec.cpus(*value)


@dataclass(frozen=True)
class Work:
    """One group of identical workers in a cgroup: work type and parameters, count, and
    where/how each runs (policy, nice, memory policy, affinity intent or fixed mask)."""

    work_type: WorkType = WorkType.SPIN_WAIT
    num_workers: int = 2
    params: tuple = ()               # (name, value) pairs, checked against the work type
    policy: SchedPolicy = field(default_factory=SchedPolicy.other)
    nice: int = 0
    mem_policy: MemPolicy = field(default_factory=MemPolicy.default)
    affinity: Optional[AffinityIntent] = None
    pinned: Optional[CpusetSpec] = None  # a fixed mask (resolved against the topology)

    def __post_init__(self) -> None:
        self.config()  # refuse parameters the work type does not read, now, not in the VM

    def config(self) -> WorkloadConfig:
        cfg = WorkloadConfig(num_workers=self.num_workers, work_type=self.work_type, nice=self.nice,
                             policy=self.policy, mem_policy=self.mem_policy, affinity=self.affinity)
        return cfg.with_params(**dict(self.params))


def _work_type(work_type: Union[WorkType, str]) -> WorkType:
    return work_type if isinstance(work_type, WorkType) else WorkType.from_name(work_type)


@dataclass(frozen=True)
class CgroupDef:
    """A cgroup, its cpuset and its workers, created and started as one unit. A name with
    "/" is a nested cgroup ("cg_0/sub_a"): its parents are created as needed.

        CgroupDef("cg_0").workers(4).work(WorkType.SPIN_WAIT).cpuset(CpusetSpec.llc(0))
        CgroupDef("cg_1").work("cache_yield", cache_kb=64).with_work(Work(WorkType.BURSTY, 1))

    The builders below edit the first work group; with_work adds another.
    """

    name: str
    works: tuple = (Work(),)
    cpuset_spec: Optional[CpusetSpec] = None

    @staticmethod
    def named(name: str) -> "CgroupDef":
        return CgroupDef(name)

    def _first(self, **changes) -> "CgroupDef":
        return replace(self, works=(replace(self.works[0], **changes),) + self.works[1:])

    @property
    def num_workers(self) -> int:
        return self.works[0].num_workers

    @property
    def work_type(self) -> WorkType:
        return self.works[0].work_type

    @property
    def nice_value(self) -> int:
        return self.works[0].nice

    def workers(self, n: int) -> "CgroupDef":
        return self._first(num_workers=n)

    def work(self, work_type: Union[WorkType, str], **params) -> "CgroupDef":
        """The work type of the first group and its parameters (e.g. cache_kb=64)."""
        return self._first(work_type=_work_type(work_type), params=tuple(sorted(params.items())))

    def with_work(self, work: Work) -> "CgroupDef":
        """Another group of workers in the same cgroup."""
        return replace(self, works=self.works + (work,))

    def cpuset(self, spec: CpusetLike) -> "CgroupDef":
        return replace(self, cpuset_spec=as_cpuset_spec(spec))

    def nice(self, value: int) -> "CgroupDef":
        return self._first(nice=value)

    def policy(self, policy: Union[SchedPolicy, str]) -> "CgroupDef":
        """Scheduling policy of the workers: SchedPolicy.fifo(10), or "batch", "rr:5", ..."""
        return self._first(policy=policy if isinstance(policy, SchedPolicy) else SchedPolicy.parse(policy))

    def mem_policy(self, policy: MemPolicy) -> "CgroupDef":
        return self._first(mem_policy=policy)

    def affinity(self, intent: AffinityIntent) -> "CgroupDef":
        """Per-worker affinity intent, resolved against the cgroup's CPUs."""
        return self._first(affinity=intent)

    def pinned(self, spec: CpusetLike) -> "CgroupDef":
        """sched_setaffinity for every worker (inside the cgroup's cpuset)."""
        return self._first(pinned=as_cpuset_spec(spec))


@dataclass(frozen=True)
class Payload:
    """A program run inside a scenario (RunPayload/WaitPayload/KillPayload): its argv, the
    metrics its output yields (name -> regex with one group, a number) and bounds on them
    (name -> (min, max), None for an open end). A missing metric with a bound fails."""

    name: str
    argv: tuple
    metrics: tuple = ()      # (metric, regex) pairs
    bounds: tuple = ()       # (metric, lo, hi) triples
    exit_code: Optional[int] = 0  # None: any exit status is fine (e.g. a killed payload)

    def __init__(self, name: str, argv, metrics: Optional[dict] = None, bounds: Optional[dict] = None,
                 exit_code: Optional[int] = 0) -> None:
        if not argv:
            raise ScenarioError(f"payload {name!r}: argv is empty")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "argv", tuple(str(a) for a in argv))
        object.__setattr__(self, "metrics", tuple(sorted((metrics or {}).items())))
        unknown = sorted(set(bounds or {}) - set(metrics or {}))
        if unknown:
            raise ScenarioError(f"payload {name!r}: bounds on {', '.join(unknown)}, which no metric "
                             f"regex extracts (metrics: {', '.join(sorted(metrics or {})) or 'none'})")
        object.__setattr__(self, "bounds", tuple(sorted((k, lo, hi) for k, (lo, hi) in (bounds or {}).items())))
        object.__setattr__(self, "exit_code", exit_code)


@dataclass(frozen=True)
class Op:
    """A change made at the start of a step. Build with the constructors below."""

    kind: str
    cgroup: str = ""
    target: str = ""
    cpuset: Optional[CpusetSpec] = None
    cgroup_def: Optional[CgroupDef] = None
    value: int = 0
    work: Optional[Work] = None
    payload: Optional[Payload] = None

    @staticmethod
    def add_cgroup(name: str) -> "Op":
        return Op("add_cgroup", name)

    @staticmethod
    def remove_cgroup(name: str) -> "Op":
        """Stop the cgroup's workers (their reports are kept), then remove it."""
        return Op("remove_cgroup", name)

    @staticmethod
    def stop_cgroup(name: str) -> "Op":
        return Op("stop_cgroup", name)

    @staticmethod
    def set_cpuset(name: str, spec: CpusetLike) -> "Op":
        return Op("set_cpuset", name, cpuset=as_cpuset_spec(spec))

    @staticmethod
    def clear_cpuset(name: str) -> "Op":
        return Op("clear_cpuset", name)

    @staticmethod
    def swap_cpusets(a: str, b: str) -> "Op":
        """Exchange two cgroups' cpusets (their running workers follow)."""
        return Op("swap_cpusets", a, target=b)

    @staticmethod
    def move_tasks(src: str, dst: str) -> "Op":
        return Op("move_tasks", src, target=dst)

    @staticmethod
    def spawn(cgroup_def: CgroupDef) -> "Op":
        return Op("spawn", cgroup_def.name, cgroup_def=cgroup_def)

    @staticmethod
    def set_nice(name: str, nice: int) -> "Op":
        return Op("set_nice", name, value=nice)

    @staticmethod
    def set_affinity(name: str, spec: CpusetLike) -> "Op":
        return Op("set_affinity", name, cpuset=as_cpuset_spec(spec))

    @staticmethod
    def spawn_host(work: Work) -> "Op":
        """Workers outside the managed cgroups (host contention): they stay in the agent's
        cgroup and are judged as the cgroup "host"."""
        return Op("spawn_host", "host", work=work)

    @staticmethod
    def run_payload(payload: Payload, cgroup: str = "") -> "Op":
        """Start a program in the background (in `cgroup`, else outside the managed ones)."""
        return Op("run_payload", cgroup, payload=payload)

    @staticmethod
    def wait_payload(name: str) -> "Op":
        """Wait for the payload to exit, then extract and check its metrics."""
        return Op("wait_payload", target=name)

    @staticmethod
    def kill_payload(name: str) -> "Op":
        """SIGKILL the payload, then extract and check what it printed."""
        return Op("kill_payload", target=name)

    @staticmethod
    def set_policy(name: str, policy: int) -> "Op":
        """sched_setscheduler for every task of the cgroup (e.g. 7 = SCHED_EXT)."""
        return Op("set_policy", name, value=policy)


@dataclass(frozen=True)
class HoldSpec:
    """How long a step runs: a fraction of the test's duration or fixed seconds."""

    fraction: Optional[float] = None
    seconds: Optional[float] = None
    loop_s: Optional[float] = None  # Loop: re-apply the step's ops every loop_s seconds

    @staticmethod
    def frac(f: float) -> "HoldSpec":
        if not 0 < f <= 1:
            raise ScenarioError(f"HoldSpec.frac({f}): the fraction must be in (0, 1]")
        return HoldSpec(fraction=f)

    @staticmethod
    def secs(s: float) -> "HoldSpec":
        if s <= 0:
            raise ScenarioError(f"HoldSpec.secs({s}): seconds must be > 0")
        return HoldSpec(seconds=s)

    @staticmethod
    def loop(interval_s: float, frac: float = 1.0) -> "HoldSpec":
        """Hold for frac of the duration, applying the step's ops (not its CgroupDefs,
        spawned once at the start) every interval_s seconds: churn."""
        if not interval_s > 0:
            raise ScenarioError(f"HoldSpec.loop({interval_s}): the interval must be > 0")
        return replace(HoldSpec.frac(frac), loop_s=interval_s)

    def resolve(self, duration_s: float) -> float:
        return self.seconds if self.seconds is not None else duration_s * (self.fraction or 1.0)


@dataclass(frozen=True)
class Step:
    """Apply `ops` in order (CgroupDefs are spawned), then hold. With HoldSpec.loop the
    CgroupDefs are spawned at the start and the explicit Ops applied every interval after:
    Step([CgroupDef("churn"), Op.remove_cgroup("churn"), Op.spawn(CgroupDef("churn"))],
    HoldSpec.loop(0.3)) replaces the churn cgroup every 0.3 s."""

    ops: tuple = ()
    hold: HoldSpec = field(default_factory=lambda: HoldSpec.frac(1.0))
    setup: tuple = ()  # indexes into ops of the spawns that came from CgroupDefs

    def __init__(self, ops=(), hold: Optional[HoldSpec] = None) -> None:
        items = tuple(Op.spawn(o) if isinstance(o, CgroupDef) else o for o in ops)
        for o in items:
            if not isinstance(o, Op):
                raise TypeError(f"Step takes Ops and CgroupDefs, got {o!r}")
        object.__setattr__(self, "ops", items)
        object.__setattr__(self, "hold", hold or HoldSpec.frac(1.0))
        object.__setattr__(self, "setup", tuple(i for i, o in enumerate(ops) if isinstance(o, CgroupDef)))

    def loop_parts(self) -> tuple[list, list]:
        """(spawned once, re-applied every loop interval)."""
        return ([o for i, o in enumerate(self.ops) if i in self.setup],
                [o for i, o in enumerate(self.ops) if i not in self.setup])


@dataclass(frozen=True)
class Backdrop:
    """What runs in the background across every step of a scenario: cgroups, then ops
    (which may act on those cgroups), then payloads; all torn down at the end."""

    defs: tuple = ()
    ops: tuple = ()
    payloads: tuple = ()

    def __init__(self, *defs: CgroupDef, ops=(), payloads=()) -> None:
        object.__setattr__(self, "defs", tuple(defs))
        object.__setattr__(self, "ops", tuple(ops))
        object.__setattr__(self, "payloads", tuple(payloads))
