"""CPU topologies: the requested shape ("1n2l4c2t") and what a (guest) kernel shows in sysfs.

Numbering (shared by the host engines and the VMM): CPU ids grow thread-fastest, then core,
then LLC; LLC l belongs to NUMA node l // (llcs // numa_nodes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ktstr.errors import KtstrError

_SPEC = re.compile(r"^(\d+)n(\d+)l(\d+)c(\d+)t$")

# Named shapes, as the original ktstr's gauntlet presets (rules/private/presets.bzl holds the
# same table for Starlark; a test keeps them equal). Topology.parse takes either form.
PRESETS: dict[str, str] = {
    "tiny-1llc": "1n1l4c1t",
    "tiny-2llc": "1n2l2c1t",
    "odd-3llc": "1n3l3c1t",
    "odd-5llc": "1n5l3c1t",
    "odd-7llc": "1n7l2c1t",
    "smt-2llc": "1n2l2c2t",
    "smt-3llc": "1n3l2c2t",
    "medium-4llc": "1n4l4c2t",
    "medium-8llc": "1n8l4c2t",
    "large-4llc": "1n4l16c2t",
    "large-8llc": "1n8l8c2t",
    "near-max-llc": "1n15l8c2t",
    "max-cpu": "1n14l9c2t",
    "medium-4llc-nosmt": "1n4l8c1t",
    "medium-8llc-nosmt": "1n8l8c1t",
    "large-4llc-nosmt": "1n4l32c1t",
    "large-8llc-nosmt": "1n8l16c1t",
    "near-max-llc-nosmt": "1n15l16c1t",
    "max-cpu-nosmt": "1n14l18c1t",
    "numa2-4llc": "2n4l4c1t",
    "numa2-8llc": "2n8l8c2t",
    "numa2-8llc-nosmt": "2n8l16c1t",
    "numa4-8llc": "4n8l4c1t",
    "numa4-12llc": "4n12l8c2t",
}


class TopologyError(KtstrError, ValueError):
    pass


# More CPUs than any engine or Linux (NR_CPUS with MAXSMP) runs. Counts are also passed to
# the C VMM as uint32: 1n2l2147483649c1t has 2^32 + 2 CPUs, which wrapped to 2 there.
MAX_CPUS = 8192


def shape_text(numa_nodes: int, llcs: int, cores_per_llc: int, threads_per_core: int) -> str:
    """The one formatter of the grammar Topology.parse reads: "{n}n{l}l{c}c{t}t"."""
    return f"{numa_nodes}n{llcs}l{cores_per_llc}c{threads_per_core}t"


@dataclass(frozen=True)
class Topology:
    numa_nodes: int = 1
    llcs: int = 1
    cores_per_llc: int = 2
    threads_per_core: int = 1

    def __post_init__(self) -> None:
        if min(self.numa_nodes, self.llcs, self.cores_per_llc, self.threads_per_core) < 1:
            raise TopologyError(f"topology {self}: every count must be at least 1")
        if self.llcs * self.cores_per_llc * self.threads_per_core > MAX_CPUS:
            raise TopologyError(f"topology {self}: {self.cpus} CPUs, more than the {MAX_CPUS} any "
                                f"engine runs")
        if self.llcs % self.numa_nodes:
            raise TopologyError(f"topology {self}: {self.llcs} LLCs do not spread evenly over "
                                f"{self.numa_nodes} NUMA nodes; llcs must be divisible by numa_nodes")

    @classmethod
    def parse(cls, spec: str) -> "Topology":
        """"1n2l4c2t" or a preset name ("tiny-2llc", see PRESETS)."""
        m = _SPEC.match(PRESETS.get(spec.strip(), spec.strip()))
        if not m:
            raise TopologyError(f"bad topology {spec!r}: expected {{nodes}}n{{llcs}}l{{cores}}c"
                                f"{{threads}}t, e.g. 1n2l4c2t, or a preset: {', '.join(PRESETS)}")
        return cls(*(int(g) for g in m.groups()))

    def __str__(self) -> str:
        return shape_text(self.numa_nodes, self.llcs, self.cores_per_llc, self.threads_per_core)

    @property
    def cpus(self) -> int:
        return self.llcs * self.cores_per_llc * self.threads_per_core

    def cpu_id(self, llc: int, core: int, thread: int) -> int:
        return (llc * self.cores_per_llc + core) * self.threads_per_core + thread

    def llc_of(self, cpu: int) -> int:
        return cpu // (self.cores_per_llc * self.threads_per_core)

    def node_of_llc(self, llc: int) -> int:
        return llc // (self.llcs // self.numa_nodes)

    def apic_id(self, cpu: int) -> int:
        """The APIC ID both engines give a CPU: [node | llc in node | core | thread], each
        field as wide as its count needs (vmm/x86/topology.c; QEMU packs the same way)."""
        def bits(n: int) -> int:
            return (n - 1).bit_length()

        per_node = self.llcs // self.numa_nodes
        tb, cb, lb = bits(self.threads_per_core), bits(self.cores_per_llc), bits(per_node)
        llc = self.llc_of(cpu)
        core = (cpu // self.threads_per_core) % self.cores_per_llc
        return ((llc // per_node) << (tb + cb + lb)) | ((llc % per_node) << (tb + cb)) | \
            (core << tb) | (cpu % self.threads_per_core)

    def check_xapic(self) -> None:
        """Guests here use xAPIC (8-bit IDs, 255 = broadcast): a topology whose last APIC
        ID is above 254 needs x2APIC with interrupt remapping, which the engines do not set
        up yet."""
        last = self.apic_id(self.cpus - 1)
        if last > 254:
            raise TopologyError(
                f"topology {self}: its last CPU's APIC ID is {last} (ID fields are powers of two "
                f"wide), above the 254 xAPIC can address; x2APIC guests are not supported yet: "
                f"use at most 254 APIC IDs, e.g. power-of-two cores per LLC")

    def llc_cpus(self, llc: int) -> list[int]:
        per = self.cores_per_llc * self.threads_per_core
        return list(range(llc * per, (llc + 1) * per))


def parse_cpulist(text: str) -> list[int]:
    """'0-3,5,7-8' -> [0, 1, 2, 3, 5, 7, 8]."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-")
            cpus.extend(range(int(lo), int(hi) + 1))
        else:
            cpus.append(int(part))
    return sorted(set(cpus))


def format_cpulist(cpus) -> str:
    cpus = sorted(set(cpus))
    out, i = [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(out)


@dataclass(frozen=True)
class SysTopology:
    """What the running kernel shows: online CPUs, LLC groups, NUMA nodes (each a CPU list)."""

    cpus: tuple[int, ...]
    llc_groups: tuple[tuple[int, ...], ...]
    node_groups: tuple[tuple[int, ...], ...]
    threads_per_core: int = 1

    @classmethod
    def read(cls, root: str | Path = "/sys/devices/system") -> "SysTopology":
        root = Path(root)
        cpu_dir = root / "cpu"
        cpus = parse_cpulist((cpu_dir / "online").read_text())
        llcs: dict[tuple[int, ...], None] = {}
        threads = 1
        for cpu in cpus:
            cache = cpu_dir / f"cpu{cpu}" / "cache"
            indexes = sorted(cache.glob("index[0-9]*"), key=lambda p: int(p.name[5:]))
            # The last level: index3 normally; the highest index present otherwise.
            group = tuple(parse_cpulist((indexes[-1] / "shared_cpu_list").read_text())) if indexes else (cpu,)
            llcs.setdefault(tuple(c for c in group if c in cpus), None)
            sib = cpu_dir / f"cpu{cpu}" / "topology" / "thread_siblings_list"
            if sib.exists():
                threads = max(threads, len(parse_cpulist(sib.read_text())))
        nodes = []
        for node in sorted((root / "node").glob("node[0-9]*"), key=lambda p: int(p.name[4:])):
            members = tuple(c for c in parse_cpulist((node / "cpulist").read_text()) if c in cpus)
            if members:
                nodes.append(members)
        if not nodes:
            nodes = [tuple(cpus)]
        return cls(tuple(cpus), tuple(sorted(llcs)), tuple(nodes), threads)

    def llcs(self) -> int:
        return len(self.llc_groups)

    def numa_nodes(self) -> int:
        return len(self.node_groups)

    def all_cpuset(self) -> list[int]:
        return list(self.cpus)

    def cpus_in_llc(self, i: int) -> list[int]:
        return list(self.llc_groups[i])

    def cpus_in_node(self, i: int) -> list[int]:
        return list(self.node_groups[i])

    def shape(self) -> str:
        """The `{n}n{l}l{c}c{t}t` string this view matches (cores counted per LLC)."""
        per_llc = max(len(g) for g in self.llc_groups) if self.llc_groups else len(self.cpus)
        return shape_text(self.numa_nodes(), self.llcs(), per_llc // self.threads_per_core, self.threads_per_core)
