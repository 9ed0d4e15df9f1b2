"""Where and how a worker runs: scheduling policy, NUMA memory policy, CPU affinity intent.

Resolved and applied in the forked worker before it starts its loop (the parent has already
moved it into its cgroup, so affinity intents resolve against the cgroup's cpuset).
"""

from __future__ import annotations

import ctypes
import os
import random
from dataclasses import dataclass
from typing import Optional, Sequence

from ktstr.workload.errors import WorkloadError

SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_EXT = 0, 1, 2, 3, 5, 7
POLICY_NAMES = {SCHED_OTHER: "other", SCHED_FIFO: "fifo", SCHED_RR: "rr", SCHED_BATCH: "batch",
                SCHED_IDLE: "idle", SCHED_EXT: "ext"}

SYS_set_mempolicy = 238  # x86_64
MPOL_DEFAULT, MPOL_PREFERRED, MPOL_BIND, MPOL_INTERLEAVE, MPOL_LOCAL = 0, 1, 2, 3, 4
MPOL_PREFERRED_MANY, MPOL_WEIGHTED_INTERLEAVE = 5, 6
MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES, MPOL_F_NUMA_BALANCING = 1 << 15, 1 << 14, 1 << 13

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class SchedPolicy:
    """sched_setscheduler(2) policy and RT priority (FIFO/RR: 1..99; others 0)."""

    policy: int = SCHED_OTHER
    priority: int = 0

    @staticmethod
    def other() -> "SchedPolicy":
        return SchedPolicy(SCHED_OTHER)

    @staticmethod
    def batch() -> "SchedPolicy":
        return SchedPolicy(SCHED_BATCH)

    @staticmethod
    def idle() -> "SchedPolicy":
        return SchedPolicy(SCHED_IDLE)

    @staticmethod
    def ext() -> "SchedPolicy":
        """SCHED_EXT: the task goes to the sched_ext scheduler even in partial-switch mode."""
        return SchedPolicy(SCHED_EXT)

    @staticmethod
    def fifo(priority: int = 1) -> "SchedPolicy":
        return SchedPolicy(SCHED_FIFO, priority)

    @staticmethod
    def rr(priority: int = 1) -> "SchedPolicy":
        return SchedPolicy(SCHED_RR, priority)

    @staticmethod
    def parse(text: str) -> "SchedPolicy":
        """'other', 'batch', 'idle', 'ext', 'fifo:10', 'rr:1'."""
        name, _, prio = text.strip().lower().partition(":")
        by_name = {v: k for k, v in POLICY_NAMES.items()}
        if name not in by_name:
            raise WorkloadError(f"unknown scheduling policy {text!r}; one of: "
                             f"{', '.join(POLICY_NAMES.values())} (fifo:N, rr:N with N in 1..99)")
        return SchedPolicy(by_name[name], int(prio) if prio else (1 if name in ("fifo", "rr") else 0))

    @property
    def realtime(self) -> bool:
        return self.policy in (SCHED_FIFO, SCHED_RR)

    def validate(self) -> None:
        if self.policy not in POLICY_NAMES:
            raise WorkloadError(f"unknown scheduling policy {self.policy}")
        if self.realtime and not 1 <= self.priority <= 99:
            raise WorkloadError(f"{POLICY_NAMES[self.policy]} priority must be in 1..99, got {self.priority}")
        if not self.realtime and self.priority:
            raise WorkloadError(f"{POLICY_NAMES[self.policy]} takes no priority (got {self.priority})")

    def apply(self) -> None:
        os.sched_setscheduler(0, self.policy, os.sched_param(self.priority))

    def __str__(self) -> str:
        name = POLICY_NAMES.get(self.policy, str(self.policy))
        return f"{name}:{self.priority}" if self.realtime else name


@dataclass(frozen=True)
class MemPolicy:
    """set_mempolicy(2): mode, nodes and mode flags (MPOL_F_*)."""

    mode: int = MPOL_DEFAULT
    nodes: tuple[int, ...] = ()
    flags: int = 0

    @staticmethod
    def default() -> "MemPolicy":
        return MemPolicy()

    @staticmethod
    def bind(*nodes: int, flags: int = 0) -> "MemPolicy":
        return MemPolicy(MPOL_BIND, tuple(nodes), flags)

    @staticmethod
    def preferred(node: int, flags: int = 0) -> "MemPolicy":
        return MemPolicy(MPOL_PREFERRED, (node,), flags)

    @staticmethod
    def interleave(*nodes: int, flags: int = 0) -> "MemPolicy":
        return MemPolicy(MPOL_INTERLEAVE, tuple(nodes), flags)

    @staticmethod
    def local() -> "MemPolicy":
        return MemPolicy(MPOL_LOCAL)

    @staticmethod
    def preferred_many(*nodes: int, flags: int = 0) -> "MemPolicy":
        return MemPolicy(MPOL_PREFERRED_MANY, tuple(nodes), flags)

    @staticmethod
    def weighted_interleave(*nodes: int, flags: int = 0) -> "MemPolicy":
        return MemPolicy(MPOL_WEIGHTED_INTERLEAVE, tuple(nodes), flags)

    def validate(self) -> None:
        needs_nodes = self.mode not in (MPOL_DEFAULT, MPOL_LOCAL)
        if needs_nodes and not self.nodes:
            raise WorkloadError(f"memory policy mode {self.mode} needs at least one node")
        if not needs_nodes and self.nodes:
            raise WorkloadError(f"memory policy mode {self.mode} takes no nodes (got {list(self.nodes)})")
        if any(n < 0 for n in self.nodes):
            raise WorkloadError(f"memory policy nodes must be >= 0, got {list(self.nodes)}")

    def apply(self) -> None:
        if self.mode == MPOL_DEFAULT and not self.flags:
            return  # nothing to change: the original makes no syscall either
        maxnode = (max(self.nodes) + 2) if self.nodes else 0
        words = max(1, (maxnode + 63) // 64)
        mask = (ctypes.c_ulong * words)()
        for n in self.nodes:
            mask[n // 64] |= 1 << (n % 64)
        rc = _libc.syscall(SYS_set_mempolicy, self.mode | self.flags,
                           ctypes.byref(mask) if self.nodes else None, maxnode)
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"set_mempolicy(mode={self.mode}, nodes={list(self.nodes)}, "
                               f"flags={self.flags:#x}): {os.strerror(err)}")


@dataclass(frozen=True)
class AffinityIntent:
    """What CPUs a worker should be allowed, resolved against its cgroup's CPUs (the pool):
    inherit (no mask), random_subset (a random half, per worker), llc_aligned (the LLC that
    overlaps the pool most), cross_cgroup (every CPU: the cpuset still bounds it),
    single_cpu (the pool's first CPU) or exact (the given CPUs within the pool)."""

    kind: str = "inherit"
    cpus: tuple[int, ...] = ()

    KINDS = ("inherit", "random_subset", "llc_aligned", "cross_cgroup", "single_cpu", "exact")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise WorkloadError(f"unknown affinity intent {self.kind!r}; one of: {', '.join(self.KINDS)}")
        if self.kind == "exact" and not self.cpus:
            raise WorkloadError("affinity exact needs at least one CPU")

    @staticmethod
    def inherit() -> "AffinityIntent":
        return AffinityIntent("inherit")

    @staticmethod
    def random_subset() -> "AffinityIntent":
        return AffinityIntent("random_subset")

    @staticmethod
    def llc_aligned() -> "AffinityIntent":
        return AffinityIntent("llc_aligned")

    @staticmethod
    def cross_cgroup() -> "AffinityIntent":
        return AffinityIntent("cross_cgroup")

    @staticmethod
    def single_cpu() -> "AffinityIntent":
        return AffinityIntent("single_cpu")

    @staticmethod
    def exact(*cpus: int) -> "AffinityIntent":
        return AffinityIntent("exact", tuple(sorted(cpus)))

    def resolve(self, pool: Sequence[int], all_cpus: Sequence[int],
                llc_groups: Sequence[Sequence[int]], rng: random.Random) -> Optional[list[int]]:
        """The mask for one worker (None: leave the inherited one)."""
        pool = sorted(pool)
        if self.kind == "inherit":
            return None
        if self.kind == "random_subset":
            return sorted(rng.sample(pool, max(1, len(pool) // 2)))
        if self.kind == "llc_aligned":
            best = max(llc_groups, key=lambda g: len(set(g) & set(pool)), default=pool)
            return sorted(set(best) & set(pool)) or pool
        if self.kind == "cross_cgroup":
            return sorted(all_cpus)
        if self.kind == "single_cpu":
            return pool[:1]
        inside = sorted(set(self.cpus) & set(pool))
        if not inside:
            raise WorkloadError(f"affinity exact {list(self.cpus)} has no CPU in the worker's pool {pool}")
        return inside
