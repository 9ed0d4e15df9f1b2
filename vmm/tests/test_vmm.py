"""The C VMM on real /dev/kvm with synthetic guests: topology seen through CPUID on every
vCPU, each exit path, and a clean run under valgrind."""

import os
import subprocess
from pathlib import Path

import pytest
from vmm.tests.conftest import VMM, valgrind_or_skip
from vmm.tests.topology_model import apic_id, bits, parse_topo

GUESTS = Path("vmm/tests/guests")


def kvm_usable() -> bool:
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


pytestmark = pytest.mark.skipif(not kvm_usable(), reason="no read/write access to /dev/kvm on this host")


def run(guest: str, *args: str, wrapper=()) -> tuple[int, str, dict]:
    proc = subprocess.run([*wrapper, str(VMM), *args, str(GUESTS / f"{guest}.bin")],
                          capture_output=True, text=True, timeout=120)
    report = dict(line.split("=", 1) for line in proc.stderr.splitlines() if "=" in line and not line.startswith("=="))
    return proc.returncode, proc.stdout, report


def host_is_amd() -> bool:
    with open("/proc/cpuinfo") as f:
        head = f.read(4096)
    return "AuthenticAMD" in head or "HygonGenuine" in head


# Power-of-two and odd counts; 2n6l1c1t has 3 LLCs per node, so the node field of the APIC
# ID must start past a 2-bit LLC field that 3 LLCs do not fill.
@pytest.mark.parametrize("topo", ["1n1l1c1t", "1n2l4c2t", "2n4l2c2t", "1n3l3c1t", "2n6l1c1t"])
def test_every_vcpu_sees_its_apic_id_and_llc_sharing(topo):
    n, llcs, c, t = parse_topo(topo)
    rc, out, report = run("cpuid_probe", "--topology", topo)
    assert rc == 0 and report["exit"] == "debug_exit", report
    rows = {}
    for line in out.splitlines():
        fields = dict(kv.split("=") for kv in line.split())
        rows[int(fields["cpu"])] = {k: int(v) for k, v in fields.items()}
    assert sorted(rows) == list(range(llcs * c * t)), "every vCPU must report exactly once"
    llc_shift = bits(t) + bits(c)
    pkg_bits = llc_shift + bits(llcs // n)
    per_llc, per_node = c * t, llcs // n * c * t
    for cpu, row in rows.items():
        apic = apic_id(cpu, n, llcs, c, t)
        assert row["apic"] == apic and row["x2apic"] == apic
        assert row["llc_sharing"] == 1 << llc_shift  # CPUs sharing the L3, as an ID field
        assert row["smt_shift"] == bits(t) and row["llc_shift"] == llc_shift
        # On an AMD host the guest's vendor is AMD and Linux reads the 0x8000_00xx leaves.
        assert row["amd"] == int(host_is_amd())
        if row["amd"]:
            assert row["topoext"] == 1
            assert row["amd_llc_sharing"] == 1 << llc_shift
            assert row["ext_apic"] == apic
            assert row["amd_threads"] == t
            assert row["amd_core"] == (apic >> bits(t)) & ((1 << (pkg_bits - bits(t))) - 1)
            assert row["amd_node"] == cpu // per_node
            assert row["amd_nc"] == per_node and row["amd_pkg_bits"] == pkg_bits
    # CPUs in the same LLC, and only those, share apic >> llc_shift (how Linux groups them),
    # and the same node, and only those, share apic >> pkg_bits.
    for cpu, row in rows.items():
        same_llc = {o for o, r in rows.items() if r["apic"] >> llc_shift == row["apic"] >> llc_shift}
        assert same_llc == set(range(cpu // per_llc * per_llc, (cpu // per_llc + 1) * per_llc))
        same_node = {o for o, r in rows.items() if r["apic"] >> pkg_bits == row["apic"] >> pkg_bits}
        assert same_node == set(range(cpu // per_node * per_node, (cpu // per_node + 1) * per_node))


def test_debug_exit_port_status_is_the_exit_code():
    rc, _, report = run("exit_status", "--topology", "1n1l2c1t")
    assert rc == 42 and report["exit"] == "debug_exit" and report["status"] == "42"


def test_watchdog_ends_a_guest_that_never_finishes():
    rc, _, report = run("spin_forever", "--timeout-ms", "300")
    assert rc == 124 and report["exit"] == "timeout"
    assert int(report["run_us"]) < 5_000_000


def test_triple_fault_is_a_shutdown_with_the_rip():
    rc, _, report = run("triple_fault")
    assert rc == 125 and report["exit"] == "shutdown"
    assert int(report["rip"], 16) >= 0x100000


def test_bad_topology_is_named():
    proc = subprocess.run([str(VMM), "--topology", "2n3l1c1t", str(GUESTS / "cpuid_probe.bin")],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 125 and "llcs divisible by numa_nodes" in proc.stderr


def test_missing_guest_is_named():
    proc = subprocess.run([str(VMM), "/nonexistent/guest.bin"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 125 and "/nonexistent/guest.bin" in proc.stderr


def test_no_leaks_or_invalid_accesses_under_valgrind():
    valgrind_or_skip()
    rc, out, report = run("cpuid_probe", "--topology", "1n2l2c1t",
                          wrapper=("valgrind", "--error-exitcode=99", "--leak-check=full",
                                   "--errors-for-leak-kinds=definite,indirect", "-q"))
    assert rc == 0, report
    assert len(out.splitlines()) == 4
