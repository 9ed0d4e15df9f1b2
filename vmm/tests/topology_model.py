"""What the VMM's topology must look like to a guest, written independently of the C code."""

import re


def parse_topo(name: str) -> tuple[int, int, int, int]:
    """"2n4l2c2t" -> (numa_nodes, llcs, cores_per_llc, threads_per_core)."""
    return tuple(map(int, re.match(r"(\d+)n(\d+)l(\d+)c(\d+)t$", name).groups()))


def bits(n: int) -> int:
    """Width of an ID field holding n values (APIC ID fields are powers of two)."""
    return (n - 1).bit_length()


def apic_id(cpu: int, n: int, l: int, c: int, t: int) -> int:
    """[node | llc in node | core | thread], each field as wide as its count needs."""
    per_node = l // n
    thread, core, llc = cpu % t, (cpu // t) % c, cpu // (c * t)
    return ((llc // per_node) << (bits(t) + bits(c) + bits(per_node))) | \
        ((llc % per_node) << (bits(t) + bits(c))) | (core << bits(t)) | thread
