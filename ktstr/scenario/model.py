"""Declarative scenario pieces: cpusets, cgroup definitions, ops, hold times, steps."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Union

from ktstr.topology import SysTopology
from ktstr.workload.types import WorkType


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
            raise ValueError(f"cpuset range({start_frac}, {end_frac}): need 0 <= start < end <= 1")
        return CpusetSpec("range", (start_frac, end_frac))

    @staticmethod
    def overlap(part: int, parts: int, frac: float) -> "CpusetSpec":
        """split(part, parts) widened on both sides by frac of a slice: neighbouring cgroups
        share CPUs (frac 0 = split, 1 = each reaches into its neighbours' whole slices)."""
        if not 0.0 <= frac <= 1.0:
            raise ValueError(f"cpuset overlap frac {frac}: need 0 <= frac <= 1")
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
                raise ValueError(f"cpuset {list(self.arg)}: cpus {bad} do not exist (guest has {all_cpus})")
            return sorted(self.arg)
        if self.kind in ("split", "overlap"):
            part, parts = self.arg[:2]
            if not 0 <= part < parts:
                raise ValueError(f"cpuset {self.kind}({part}, {parts}): part must be in 0..{parts - 1}")
            if parts > len(all_cpus):
                raise ValueError(f"cannot split {len(all_cpus)} cpus into {parts} non-empty cpusets")
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
                raise ValueError(f"cpuset range({start}, {end}) of {len(all_cpus)} cpus is empty")
            return all_cpus[lo:hi]
        raise ValueError(f"unknown cpuset kind {self.kind!r}")


CpusetLike = Union[CpusetSpec, list, tuple, None]


def as_cpuset_spec(value: CpusetLike) -> Optional[CpusetSpec]:
    if value is None or isinstance(value, CpusetSpec):
        return value
    return CpusetSpec.cpus(*value)


@dataclass(frozen=True)
class CgroupDef:
    """A cgroup, its cpuset and its workers, created and started as one unit.

        CgroupDef("cg_0").workers(4).work(WorkType.SPIN_WAIT).cpuset(CpusetSpec.llc(0))
    """

    name: str
    num_workers: int = 2
    work_type: WorkType = WorkType.SPIN_WAIT
    cpuset_spec: Optional[CpusetSpec] = None
    nice_value: int = 0
    affinity: Optional[CpusetSpec] = None

    @staticmethod
    def named(name: str) -> "CgroupDef":
        return CgroupDef(name)

    def workers(self, n: int) -> "CgroupDef":
        return replace(self, num_workers=n)

    def work(self, work_type: Union[WorkType, str]) -> "CgroupDef":
        wt = work_type if isinstance(work_type, WorkType) else WorkType.from_name(work_type)
        return replace(self, work_type=wt)

    def cpuset(self, spec: CpusetLike) -> "CgroupDef":
        return replace(self, cpuset_spec=as_cpuset_spec(spec))

    def nice(self, value: int) -> "CgroupDef":
        return replace(self, nice_value=value)

    def pinned(self, spec: CpusetLike) -> "CgroupDef":
        """sched_setaffinity for every worker (inside the cgroup's cpuset)."""
        return replace(self, affinity=as_cpuset_spec(spec))


@dataclass(frozen=True)
class Op:
    """A change made at the start of a step. Build with the constructors below."""

    kind: str
    cgroup: str = ""
    target: str = ""
    cpuset: Optional[CpusetSpec] = None
    cgroup_def: Optional[CgroupDef] = None
    value: int = 0

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
    def set_policy(name: str, policy: int) -> "Op":
        """sched_setscheduler for every task of the cgroup (e.g. 7 = SCHED_EXT)."""
        return Op("set_policy", name, value=policy)


@dataclass(frozen=True)
class HoldSpec:
    """How long a step runs: a fraction of the test's duration or fixed seconds."""

    fraction: Optional[float] = None
    seconds: Optional[float] = None

    @staticmethod
    def frac(f: float) -> "HoldSpec":
        if not 0 < f <= 1:
            raise ValueError(f"HoldSpec.frac({f}): the fraction must be in (0, 1]")
        return HoldSpec(fraction=f)

    @staticmethod
    def secs(s: float) -> "HoldSpec":
        if s <= 0:
            raise ValueError(f"HoldSpec.secs({s}): seconds must be > 0")
        return HoldSpec(seconds=s)

    def resolve(self, duration_s: float) -> float:
        return self.seconds if self.seconds is not None else duration_s * (self.fraction or 1.0)


@dataclass(frozen=True)
class Step:
    """Apply `ops` (CgroupDefs are spawned), then hold."""

    ops: tuple = ()
    hold: HoldSpec = field(default_factory=lambda: HoldSpec.frac(1.0))

    def __init__(self, ops=(), hold: Optional[HoldSpec] = None) -> None:
        items = tuple(Op.spawn(o) if isinstance(o, CgroupDef) else o for o in ops)
        for o in items:
            if not isinstance(o, Op):
                raise TypeError(f"Step takes Ops and CgroupDefs, got {o!r}")
        object.__setattr__(self, "ops", items)
        object.__setattr__(self, "hold", hold or HoldSpec.frac(1.0))


@dataclass(frozen=True)
class Backdrop:
    """Cgroups that run in the background across every step of a scenario."""

    defs: tuple = ()

    def __init__(self, *defs: CgroupDef) -> None:
        object.__setattr__(self, "defs", tuple(defs))
