"""How the catalogue splits the guest's CPUs among its cgroups (the original's
CpusetPartition), resolved at run time against the topology the VM has."""

from __future__ import annotations

from typing import Optional

from ktstr.errors import KtstrError
from ktstr.topology import SysTopology


class PartitionError(KtstrError, ValueError):
    """A catalogue partition the guest's CPUs cannot make."""


def usable_cpus(topo: SysTopology) -> list[int]:
    """All CPUs but the last when there are more than 2: it stays for the root cgroup (the
    agent, the loader, kernel threads), as the original reserves it."""
    cpus = topo.all_cpuset()
    return cpus[:-1] if len(cpus) > 2 else cpus


def _chunks(cpus: list[int], n: int) -> list[list[int]]:
    if n > len(cpus):
        raise PartitionError(f"cannot split {len(cpus)} usable cpus into {n} non-empty cpusets")
    size = len(cpus) // n
    return [cpus[i * size:(i + 1) * size] if i < n - 1 else cpus[i * size:] for i in range(n)]


def partition(topo: SysTopology, kind: str, n: int = 2, frac: float = 0.0) -> list[Optional[list[int]]]:
    """CPU lists for n cgroups. Kinds: none, llc_aligned (one LLC each), split_half (even
    split), split_misaligned (split at the middle of LLC 0, so it crosses an LLC boundary),
    overlap (even split widened by frac of a slice on each side), uneven (cgroup 0 gets
    frac of the CPUs), holdback (frac of the CPUs left unused, the rest split)."""
    cpus = usable_cpus(topo)
    if kind == "none":
        return [None] * n
    if kind == "llc_aligned":
        if topo.llcs() < n:
            raise PartitionError(f"llc_aligned needs {n} LLCs, the guest has {topo.llcs()}")
        return [[c for c in topo.cpus_in_llc(i) if c in cpus] or topo.cpus_in_llc(i) for i in range(n)]
    if kind == "split_half":
        return _chunks(cpus, n)
    if kind == "split_misaligned":
        llc0 = [c for c in topo.cpus_in_llc(0) if c in cpus]
        mid = max(1, len(llc0) // 2)
        if mid >= len(cpus):
            raise PartitionError("split_misaligned needs more than one usable CPU")
        return [cpus[:mid], cpus[mid:]] + _chunks(cpus, n)[2:] if n > 2 else [cpus[:mid], cpus[mid:]]
    if kind == "overlap":
        parts = _chunks(cpus, n)
        widen = int(len(cpus) // n * frac)
        out = []
        for p in parts:
            lo = max(0, cpus.index(p[0]) - widen)
            hi = min(len(cpus), cpus.index(p[-1]) + 1 + widen)
            out.append(cpus[lo:hi])
        return out
    if kind == "uneven":
        k = min(len(cpus) - 1, max(1, int(len(cpus) * frac)))
        return [cpus[:k], cpus[k:]] + [cpus] * (n - 2)
    if kind == "holdback":
        keep = max(n, len(cpus) - int(len(topo.all_cpuset()) * frac))
        return _chunks(cpus[:keep], n)
    raise PartitionError(f"unknown partition {kind!r}")
