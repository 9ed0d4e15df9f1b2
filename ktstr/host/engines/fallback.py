"""`auto` on a host whose KVM can run Linux: the C VMM first, QEMU when the VMM could not
bring the guest up.

The VMM's whole-Linux boot is young (its project could only test it on a KVM that cannot
run Linux); QEMU with KVM is the long-proven path. When the VMM fails in a way that is the
VMM's or KVM's (its setup, a KVM internal error, or a guest that never said a word on the
result port before the timeout) and not the guest's (a kernel panic, a test's failure), the
same boot runs again under QEMU and the result says so, keeping the VMM's console as
evidence. An explicit `vmm` engine never falls back.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from ktstr.host.engines.base import BootResult, BootSpec, Engine, ExitKind

KVM_INTERNAL = "KVM could not run the guest"


def vmm_failed_to_boot(result: BootResult) -> bool:
    if result.exit_kind == ExitKind.ENGINE_ERROR:
        return True
    if result.exit_kind == ExitKind.CRASH and result.exit_reason.startswith(KVM_INTERNAL):
        return True
    # A guest whose agent never wrote a byte before the timeout did not come up.
    return result.exit_kind == ExitKind.TIMEOUT and not result.result_stream


class FallbackEngine:
    def __init__(self, primary: Engine, fallback: Engine) -> None:
        self.primary, self.fallback = primary, fallback
        self.name = primary.name
        self._said = False

    @property
    def emulated(self) -> bool:
        return self.primary.emulated

    def run(self, spec: BootSpec) -> BootResult:
        first = self.primary.run(spec)
        if not vmm_failed_to_boot(first):
            return first
        kept = spec.console_path.with_name(f"{spec.console_path.stem}.{self.primary.name}-failed.log")
        if spec.console_path.exists():
            spec.console_path.replace(kept)
        note = (f"the {self.primary.name} engine did not bring the guest up ({first.exit_reason or first.detail}); "
                f"ran it again under {self.fallback.name} (its console: {kept.name})")
        if not self._said:
            self._said = True
            print(f"ktstr: {note}; KTSTR_ENGINE={self.primary.name} insists on it", file=sys.stderr)
        second = self.fallback.run(spec)
        return replace(second, detail=f"{note}; {second.detail}")
