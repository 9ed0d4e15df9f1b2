"""What the VMM's topology must look like to a guest. The grammar is ktstr.topology's, and
the APIC ID layout is ktstr.topology's (production code, which QEMU's numbering matches
too): the independent oracle is Linux's own view in the VM tests, not this module."""

from ktstr.topology import Topology


def parse_topo(name: str) -> tuple[int, int, int, int]:
    """"2n4l2c2t" -> (numa_nodes, llcs, cores_per_llc, threads_per_core), by the one parser."""
    t = Topology.parse(name)
    return t.numa_nodes, t.llcs, t.cores_per_llc, t.threads_per_core


def bits(n: int) -> int:
    """Width of an ID field holding n values (APIC ID fields are powers of two)."""
    return (n - 1).bit_length()


def apic_id(cpu: int, n: int, llcs: int, c: int, t: int) -> int:
    """[node | llc in node | core | thread], each field as wide as its count needs."""
    return Topology(n, llcs, c, t).apic_id(cpu)
