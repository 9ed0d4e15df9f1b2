"""The C VMM booting the real kernel from //kernels:default.

Early boot (runs on every host with /dev/kvm, kvm-pvm included): the kernel's own log must
show the boot_params, e820 map, ACPI tables and NUMA/CPU topology the VMM built. On
kvm-pvm the kernel dies later, in PVM's instruction emulator (measured: at SLUB's
cmpxchg16b, ~70 s in); everything asserted here is printed before that, so the test stops
the VMM as soon as it has seen it all.

Whole boots (busybox guests: topology, power-off through ACPI S5, panic, hang, COM2) are the
engine conformance suite's, run on every engine: tests/engines/test_conformance.py.
"""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import time
from pathlib import Path

import pytest

from ktstr.topology import Topology
from tests.vm_inputs import default_kernel_file

VMM = Path("vmm/ktstr-vmm")
EARLY_DEADLINE_S = float(os.environ.get("KTSTR_EARLY_BOOT_DEADLINE", "400"))


def _find_kernel() -> Path | None:
    return default_kernel_file()


KERNEL = _find_kernel()
pytestmark = [
    pytest.mark.skipif(KERNEL is None, reason="no kernel: run under Bazel (data //kernels:default)"),
    pytest.mark.skipif(not os.access("/dev/kvm", os.R_OK | os.W_OK),
                       reason="no read/write access to /dev/kvm on this host"),
]


def expected_early_lines(topo: Topology, memory_mib: int, cmdline: str) -> list[str]:
    """Regexes the kernel log must match, computed from the topology alone."""
    mem = memory_mib << 20
    lines = [
        r"Linux version 6\.12\.",
        re.escape(f"Command line: {cmdline}"),
        # the e820 map, as the VMM wrote it into boot_params
        re.escape("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"),
        re.escape("BIOS-e820: [mem 0x000000000009fc00-0x00000000000fffff] reserved"),
        re.escape(f"BIOS-e820: [mem 0x0000000000100000-0x{mem - 1:016x}] usable"),
        # ACPI: found through boot_params.acpi_rsdp_addr, every table there
        r"ACPI: RSDP 0x00000000000E0000 ",
        *(rf"ACPI: {sig} 0x[0-9A-F]+ " for sig in ("XSDT", "FACP", "DSDT", "APIC", "SRAT", "SLIT")),
        # MADT: every vCPU present, none hot-pluggable
        re.escape(f"Allowing {topo.cpus} present CPUs plus 0 hotplug CPUs"),
    ]
    per_node = (mem // topo.numa_nodes) & ~((2 << 20) - 1)
    for node in range(topo.numa_nodes):
        start = node * per_node
        end = mem if node == topo.numa_nodes - 1 else start + per_node
        # SRAT memory affinity, one contiguous range per node (the first starts at 0)
        lines.append(re.escape(f"ACPI: SRAT: Node {node} PXM {node} [mem {start:#010x}-{end - 1:#010x}]"))
        lines.append(rf"NODE_DATA\({node}\) allocated")
    lines.append(re.escape(f"nr_cpu_ids:{topo.cpus} nr_node_ids:{topo.numa_nodes}"))
    return lines


def percpu_groups(log: str) -> dict[int, int]:
    """cpu -> percpu allocation group; Linux groups CPUs by NUMA node (SRAT processor affinity)."""
    groups = {}
    for line in log.splitlines():
        if line.startswith("pcpu-alloc: [") or re.match(r"pcpu-alloc: \[\d", line):
            for group, cpus in re.findall(r"\[(\d+)\] ((?:\d+ )+)", line + " "):
                for cpu in cpus.split():
                    groups[int(cpu)] = int(group)
    return groups


def watch_console(cmd: list[str], patterns: list[str], deadline_s: float) -> tuple[str, list[str], str]:
    """Run the VMM until every pattern has matched its console (then stop it) or it ends."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    log, missing, end = b"", list(patterns), time.monotonic() + deadline_s
    try:
        while missing and time.monotonic() < end:
            if not sel.select(timeout=1.0):
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            log += chunk
            text = log.decode(errors="replace")
            missing = [p for p in missing if not re.search(p, text, re.M)]
            # the percpu group lines come last; wait until they are complete
            if not missing and "pcpu-alloc: [" in text and not text.rstrip("\n").endswith("pcpu-alloc:"):
                break
    finally:
        proc.kill()
        _, err = proc.communicate()
    return log.decode(errors="replace"), missing, err.decode(errors="replace")


@pytest.mark.parametrize("topo_name, memory_mib", [("2n2l2c1t", 512), ("1n2l2c2t", 256)])
def test_linux_early_boot_reads_our_boot_params_acpi_and_topology(topo_name, memory_mib):
    topo = Topology.parse(topo_name)
    cmdline = "earlyprintk=serial,ttyS0,115200 console=ttyS0 loglevel=8 panic=-1 ktstr.test=early-boot"
    patterns = expected_early_lines(topo, memory_mib, cmdline) + [r"^pcpu-alloc: \["]
    cmd = [str(VMM), "--topology", topo_name, "--memory-mib", str(memory_mib),
           "--timeout-ms", str(int(EARLY_DEADLINE_S * 1000)), "--kernel", str(KERNEL), "--cmdline", cmdline]
    log, missing, report = watch_console(cmd, patterns, EARLY_DEADLINE_S)
    assert not missing, f"not in the kernel log: {missing}\n--- log tail:\n{log[-3000:]}\n--- VMM:\n{report}"
    groups = percpu_groups(log)
    per_node = topo.cpus // topo.numa_nodes
    assert groups == {cpu: cpu // per_node for cpu in range(topo.cpus)} or topo.numa_nodes == 1, groups
