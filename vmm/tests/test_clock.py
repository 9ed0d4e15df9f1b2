"""What a Linux guest needs to keep time, checked on real /dev/kvm with a synthetic guest.

Under nested KVM Linux could not calibrate the TSC against the PIT (too slow there), found no
other reference and hung with no clock source. The VMM now gives it KVM's paravirtual
interface (kvm-clock, which also carries the TSC frequency), the TSC deadline timer and an
ACPI PM timer; each is checked here the way Linux looks for it, so its absence fails without
nested KVM.
"""

from __future__ import annotations

import re
from pathlib import Path

GUESTS = Path("vmm/tests/guests")
KVM_FEATURE_CLOCKSOURCE2 = 1 << 3
PM_TIMER_HZ = 3579545


def pvclock_tsc_khz(mul: int, shift: int) -> float:
    """The TSC frequency kvm-clock tells the guest (Linux's pvclock_tsc_khz)."""
    khz = (1_000_000 << 32) / mul
    return khz * 2 ** -shift


def probe(vmm) -> dict[str, int]:
    r = vmm("--topology", "1n1l1c1t", str(GUESTS / "clock_probe.bin"))
    assert r.rc == 0 and r.report["exit"] == "debug_exit", (r.report, r.out)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", r.out)}


def test_guest_sees_a_hypervisor_with_kvm_paravirtual_leaves(vmm):
    p = probe(vmm)
    # Linux reads the hypervisor leaves only when CPUID.1:ECX[31] says there is one.
    assert p["hv"] == 1, "CPUID.1:ECX.HYPERVISOR: Linux would not look for kvm-clock"
    assert p["kvm_sig"] == 1 and p["kvm_max"] >= 0x40000001, p
    assert p["kvm_features"] & KVM_FEATURE_CLOCKSOURCE2, f"no kvm-clock: features {p['kvm_features']:#x}"
    # KVM emulates it but reports it by capability only: without it Linux calibrates the
    # LAPIC timer against a PIT it may not be able to use.
    assert p["tsc_deadline"] == 1, "CPUID.1:ECX.TSC_DEADLINE_TIMER"


def test_kvm_clock_and_the_pm_timer_agree_on_the_tsc_frequency(vmm):
    p = probe(vmm)
    assert p["pvclock_version"] and p["pvclock_version"] % 2 == 0, "kvm-clock structure never filled"
    assert p["pvclock_mul"] > 0
    kvmclock_khz = pvclock_tsc_khz(p["pvclock_mul"], p["pvclock_shift"] - 128)
    # The guest waited 50 ms of PM timer ticks (180k at 3.58 MHz) and counted TSC ticks.
    assert p["pm_ticks"] >= 178977
    pm_khz = p["tsc_ticks"] * PM_TIMER_HZ / p["pm_ticks"] / 1000
    assert 100_000 < kvmclock_khz < 10_000_000, kvmclock_khz
    assert abs(pm_khz - kvmclock_khz) / kvmclock_khz < 0.02, (pm_khz, kvmclock_khz)
