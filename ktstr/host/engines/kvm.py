"""Can this host's KVM boot an unmodified Linux guest?

Some KVMs expose /dev/kvm but cannot run Linux: kvm-pvm (a paravirtual KVM module that runs
synthetic guests but dies in its instruction emulator on a Linux boot), or a /dev/kvm we
cannot open. The probe reads only local facts (files under /sys and /dev), so it is cheap
and deterministic; the inputs are parameters so tests can feed it a fake /sys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Kernel modules that provide /dev/kvm without being able to boot a Linux guest.
# kvm-pvm: "KVM internal error. Suberror: 1" at the first xrstor of a Linux boot.
LINUX_INCAPABLE_KVM_MODULES = {
    "kvm_pvm": "kvm-pvm (paravirtual KVM) provides /dev/kvm; it cannot boot an unmodified Linux guest",
}


@dataclass(frozen=True)
class KvmVerdict:
    can_boot_linux: bool
    reason: str


def probe(sys_root: Path = Path("/sys"), dev_kvm: Path = Path("/dev/kvm")) -> KvmVerdict:
    for module, why in sorted(LINUX_INCAPABLE_KVM_MODULES.items()):
        if (sys_root / "module" / module).exists():
            return KvmVerdict(False, why)
    if not dev_kvm.exists():
        return KvmVerdict(False, f"{dev_kvm} does not exist (no KVM module loaded or no VT-x/AMD-V)")
    if not os.access(dev_kvm, os.R_OK | os.W_OK):
        return KvmVerdict(False, f"{dev_kvm} is not readable and writable by this user (add it to the kvm group)")
    if not any((sys_root / "module" / m).exists() for m in ("kvm_intel", "kvm_amd")):
        return KvmVerdict(False, "/dev/kvm exists but neither kvm_intel nor kvm_amd is loaded")
    return KvmVerdict(True, "kvm_intel/kvm_amd loaded and /dev/kvm usable")
