"""The C VMM backs guest RAM with a memfd from the host (KTSTR_VM_MEMORY_FD), and the
monitor's reader sees a running synthetic guest's writes in it."""

from __future__ import annotations

import os
import struct
import threading
import time
from pathlib import Path

import pytest

from ktstr.host.engines.vmm_binding import Topology, VmConfig, Vmm, VmmSetupError
from ktstr.monitor.memory import GuestMemory

LIBRARY = Path("vmm/libktstr_vmm.so")
GUEST = Path("tests/monitor/guests/write_pattern.bin")

pytestmark = [
    pytest.mark.skipif(not LIBRARY.is_file() or not GUEST.is_file(),
                       reason="run under Bazel (data //vmm:libktstr_vmm.so, :guest_write_pattern)"),
    pytest.mark.skipif(not os.access("/dev/kvm", os.R_OK | os.W_OK), reason="no read/write /dev/kvm"),
]


def test_reader_sees_the_guests_writes_while_it_runs():
    vmm = Vmm(LIBRARY)
    fd = os.memfd_create("ktstr-vmm-ram")
    os.ftruncate(fd, 64 << 20)
    mem = GuestMemory.map_fds([fd], below_4g=0xC0000000)
    result = {}

    def run():
        try:
            result["report"] = vmm.run(VmConfig(topology=Topology(1, 1, 2, 1), memory_mib=64,
                                                guest=GUEST, timeout_ms=3000, memory_fd=fd))
        except VmmSetupError as exc:
            result["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    counts = []
    deadline = time.monotonic() + 10
    while t.is_alive() and time.monotonic() < deadline and len(counts) < 2:
        magic, count = struct.unpack("<8sQ", mem.read_phys(0x300000, 16))
        if magic == b"KTSTRMEM" and (not counts or count > counts[-1]):
            counts.append(count)
        time.sleep(0.05)
    t.join()
    try:
        if "error" in result:
            pytest.skip(f"the VMM cannot run a guest on this host: {result['error']}")
        report = result["report"]
        if report.kind.name == "INTERNAL_ERROR":
            pytest.skip(f"KVM could not run the synthetic guest here: {report.describe()}")
        assert len(counts) == 2, f"guest writes seen from the host: {counts} ({report.describe()})"
        # The VMM's own loading landed in the shared file too: the guest binary at 1 MiB.
        image = GUEST.read_bytes()
        assert mem.read_phys(0x100000, len(image)) == image
    finally:
        mem.close()
        os.close(fd)


def test_a_memory_file_smaller_than_the_guest_is_refused():
    vmm = Vmm(LIBRARY)
    fd = os.memfd_create("ktstr-vmm-small")
    os.ftruncate(fd, 1 << 20)
    try:
        with pytest.raises(VmmSetupError, match="memory_fd is smaller than memory_mib"):
            vmm.run(VmConfig(topology=Topology(1, 1, 1, 1), memory_mib=64, guest=GUEST,
                             timeout_ms=1000, memory_fd=fd))
    finally:
        os.close(fd)
