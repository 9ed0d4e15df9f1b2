"""The cffi binding: the cdef matches the library, runs report back, errors name the call."""

import errno
import os
from pathlib import Path

import pytest

from types import SimpleNamespace

from ktstr.host.engines.vmm_binding import VmConfig, Vmm, VmmError, VmmSetupError
from ktstr.wire.vmm_report import VmExit
from ktstr.topology import Topology, TopologyError

ONE_CPU = Topology(1, 1, 1, 1)


GUESTS = Path("vmm/tests/guests")
LIBRARY = Path("vmm/libktstr_vmm.so")
needs_kvm = pytest.mark.skipif(not os.access("/dev/kvm", os.R_OK | os.W_OK),
                               reason="no read/write access to /dev/kvm on this host")


@pytest.fixture(scope="module")
def lib():
    return Vmm(LIBRARY)  # checks sizeof(config/report) against the library


def test_apic_ids_come_from_the_library(lib):
    topo = Topology(numa_nodes=2, llcs=4, cores_per_llc=3, threads_per_core=2)
    # [llc:2 bits | core:2 bits | thread:1 bit]
    assert [lib.apic_id(topo, cpu) for cpu in (0, 1, 2, 5, 6, 23)] == [0, 1, 2, 5, 8, 29]


def test_missing_library_is_named(tmp_path):
    with pytest.raises(VmmError, match="libktstr_vmm.so not found"):
        Vmm(tmp_path / "libktstr_vmm.so")


def test_setup_error_names_the_input_and_errno(lib):
    with pytest.raises(VmmSetupError) as info:
        lib.run(VmConfig(ONE_CPU, guest=Path("/nonexistent/guest.bin"), timeout_ms=1000))
    assert info.value.errno == errno.ENOENT and "/nonexistent/guest.bin" in str(info.value)


def test_bad_topology_is_a_setup_error(lib):
    with pytest.raises(VmmSetupError, match="llcs divisible by numa_nodes"):
        # 3 LLCs over 2 nodes: ktstr.topology.Topology refuses it, and so must the C check.
        bad = SimpleNamespace(numa_nodes=2, llcs=3, cores_per_llc=1, threads_per_core=1)
        lib.run(VmConfig(bad, guest=GUESTS / "exit_status.bin"))


def test_wrapping_topology_is_refused_on_both_sides(lib):
    # issue 22: 2 x 2147483649 cores wrapped to 2 vCPUs in C and then looped forever.
    with pytest.raises(TopologyError, match="4294967298 CPUs, more than the 8192"):
        Topology.parse("1n2l2147483649c1t")
    with pytest.raises(VmmSetupError, match=r"topology: 1n2l2147483649c1t is more than 512 vCPUs") as info:
        raw = SimpleNamespace(numa_nodes=1, llcs=2, cores_per_llc=2147483649, threads_per_core=1)
        lib.run(VmConfig(raw, guest=GUESTS / "exit_status.bin"))
    assert info.value.errno == errno.E2BIG
    assert lib.apic_id(raw, 1) == 0xffffffff  # no IDs for a refused topology


@needs_kvm
def test_run_reports_status_console_and_stats(lib, tmp_path):
    console = tmp_path / "com1.txt"
    with open(console, "wb") as f:
        report = lib.run(VmConfig(Topology(1, 2, 2, 1), guest=GUESTS / "cpuid_probe.bin",
                                  console_fd=f.fileno(), timeout_ms=20000))
    assert report.kind == VmExit.DEBUG_PORT and report.vcpus == 4
    assert len(console.read_text().splitlines()) == 4
    assert report.setup_ns > 0 and report.run_ns > 0
    if report.stats:  # KVM_GET_STATS_FD (Linux 5.14+): every vCPU exited at least once
        assert report.stats["exits"] >= 4


@needs_kvm
def test_timeout_and_shutdown_come_back_as_kinds(lib):
    spin = lib.run(VmConfig(ONE_CPU, guest=GUESTS / "spin_forever.bin", timeout_ms=200))
    assert spin.kind == VmExit.TIMEOUT
    fault = lib.run(VmConfig(ONE_CPU, guest=GUESTS / "triple_fault.bin", timeout_ms=5000))
    assert fault.kind == VmExit.SHUTDOWN and fault.rip >= 0x100000
    assert fault.insn[:2] == bytes.fromhex("0f0b")  # ud2, read back from guest memory
