"""QEMU backs guest RAM with the host's memfds and the host reads it while the guest runs:
no kernel needed, the firmware (SeaBIOS) writes its own name into low RAM within a second."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from ktstr.host.engines.qemu import node_sizes_mib, topology_args
from ktstr.monitor.memory import GuestMemory
from ktstr.topology import Topology


@pytest.mark.parametrize("shape", ["1n1l2c1t", "2n2l1c1t"])  # one backend; one per NUMA node
def test_guest_ram_is_readable_from_the_host_while_qemu_runs(shape):
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 is not installed (tools/debian-packages.txt)")
    topo = Topology.parse(shape)
    fds = []
    for size in node_sizes_mib(topo, 256):
        fd = os.memfd_create("ktstr-test-ram")
        os.ftruncate(fd, size << 20)
        fds.append(fd)
    cmd = ["qemu-system-x86_64", "-M", "pc,accel=tcg", *topology_args(topo, 256, fds),
           "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "none"]
    proc = subprocess.Popen(cmd, pass_fds=fds, stderr=subprocess.PIPE, start_new_session=True)
    mem = GuestMemory.map_fds(fds)
    try:
        deadline = time.monotonic() + 20
        seen = False
        while time.monotonic() < deadline and proc.poll() is None and not seen:
            seen = b"SeaBIOS" in mem.read_phys(0xE0000, 0x20000)
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read().decode()
        assert seen, "the firmware's writes never showed in the shared RAM"
        assert mem.ram_size == 256 << 20
    finally:
        proc.kill()
        proc.wait()
        mem.close()
        for fd in fds:
            os.close(fd)
