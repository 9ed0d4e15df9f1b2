"""Which engine runs a boot.

`select_engine(name, vmm_library)` with name from the caller (Bazel attribute, CLI flag) or
`$KTSTR_ENGINE`. `auto`: where KVM can boot Linux, the project's C VMM (`vmm`) when its
library is at hand, with QEMU+KVM for a boot the VMM could not bring up (fallback.py), else
QEMU+KVM; where it cannot (kvm-pvm, no /dev/kvm), QEMU+TCG. Either choice is said once per
process, with how to override it. `qemu` = QEMU with KVM or TCG. `vmm-nested` = the C VMM on
nested KVM inside an L1 host under QEMU TCG (vmm_nested.py), for hosts whose KVM cannot run
Linux.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from ktstr.errors import KtstrError
from ktstr.host.engines import kvm
from ktstr.host.engines.base import Engine
from ktstr.host.engines.qemu import QemuEngine

if TYPE_CHECKING:
    from ktstr.host.engines.vmm_nested import L1Host

ENGINE_ENV = "KTSTR_ENGINE"


@dataclass(frozen=True)
class EngineSpec:
    """What the rest of ktstr may know of an engine name: its capabilities as fields, so no
    caller tests a name or an engine's type. rules/private/engines.bzl states the same
    capabilities for Starlark (tools/lint/test_cross_lists.py compares the two)."""

    name: str
    needs_kvm: bool  # boots only where KVM can run Linux (Bazel tags its tests requires-kvm)
    needs_vmm_library: bool  # may boot the C VMM: libktstr_vmm.so in the test's runfiles
    needs_l1_host: bool  # boots inside an L1 host (nested KVM under QEMU TCG): its kernel too
    # The engine `ktstr shell` boots for this name ("" = none: the C VMM has no console input).
    shell_engine: str


ENGINE_SPECS: dict[str, EngineSpec] = {s.name: s for s in (
    # The C VMM where KVM can boot Linux (QEMU+KVM for a boot it cannot bring up), else QEMU TCG.
    EngineSpec("auto", needs_kvm=False, needs_vmm_library=True, needs_l1_host=False, shell_engine="qemu"),
    EngineSpec("qemu", needs_kvm=False, needs_vmm_library=False, needs_l1_host=False, shell_engine="qemu"),
    EngineSpec("qemu-kvm", needs_kvm=True, needs_vmm_library=False, needs_l1_host=False, shell_engine="qemu-kvm"),
    EngineSpec("qemu-tcg", needs_kvm=False, needs_vmm_library=False, needs_l1_host=False, shell_engine="qemu-tcg"),
    EngineSpec("vmm", needs_kvm=True, needs_vmm_library=True, needs_l1_host=False, shell_engine=""),
    EngineSpec("vmm-nested", needs_kvm=False, needs_vmm_library=False, needs_l1_host=True, shell_engine=""),
)}
ENGINE_NAMES = tuple(ENGINE_SPECS)
AUTO = "auto"  # what an unset name resolves to (after $KTSTR_ENGINE)


@dataclass(frozen=True)
class EngineOptions:
    """Which engine a run boots on and the files that engine needs, apart from the run's
    other options (ktstr.host.request.RunRequest.engine)."""

    name: Optional[str] = None  # None: $KTSTR_ENGINE, then auto
    vmm_library: Optional[Path] = None  # the C VMM's libktstr_vmm.so (needs_vmm_library)
    l1_host: Optional["L1Host"] = None  # the nested test bed's L1 (needs_l1_host)

    def spec(self) -> EngineSpec:
        return ENGINE_SPECS[requested_engine(self.name)]

    def select(self) -> Engine:
        return select_engine(self.name, self.vmm_library, self.l1_host)

    def interactive(self) -> QemuEngine:
        """The engine `ktstr shell` boots: QEMU (with KVM where KVM can boot Linux for auto)."""
        spec = self.spec()
        if not spec.shell_engine:
            shells = ", ".join(n for n, s in ENGINE_SPECS.items() if s.shell_engine)
            raise EngineSelectionError(f"engine {spec.name!r} cannot run an interactive shell (the C VMM "
                                       f"has no console input): use --engine {shells}")
        return _qemu(spec.shell_engine)


class EngineSelectionError(KtstrError, ValueError):
    pass


def requested_engine(explicit: Optional[str] = None) -> str:
    """The engine name asked for: explicit argument, else $KTSTR_ENGINE, else auto."""
    name = (explicit or os.environ.get(ENGINE_ENV) or AUTO).strip()
    if name not in ENGINE_NAMES:
        raise EngineSelectionError(
            f"unknown engine {name!r} (from {'argument' if explicit else ENGINE_ENV}); "
            f"choose one of: {', '.join(ENGINE_NAMES)}"
        )
    return name


_said = False


def _say_once(message: str) -> None:
    global _said
    if not _said:
        _said = True
        print(f"ktstr: {message}", file=sys.stderr)


def select_engine(explicit: Optional[str] = None, vmm_library: Optional[Path] = None,
                  l1_host: Optional["L1Host"] = None) -> Engine:
    """Resolve a name (or $KTSTR_ENGINE, or auto) into a ready engine. `vmm_library`: the
    C VMM's libktstr_vmm.so (None: a source checkout's bazel-bin, if built). `l1_host`: the
    nested test bed's L1 kernel and initramfs, for vmm-nested (None: from the environment)."""
    from ktstr.host.engines.vmm import VmmEngine, VmmError

    name = requested_engine(explicit)
    if name == "vmm-nested":
        from ktstr.host.engines.vmm_nested import NestedSetupError, VmmNestedEngine

        try:
            return VmmNestedEngine(l1_host)
        except NestedSetupError as exc:
            raise EngineSelectionError(str(exc)) from exc
    if name == "vmm":
        try:
            return VmmEngine(vmm_library)
        except VmmError as exc:
            raise EngineSelectionError(
                f"engine 'vmm' is not available: {exc}; in Bazel choose it with "
                f"--//rules:engine=vmm (that adds the library to the test), or use qemu/auto"
            ) from exc
    verdict = None if name == "qemu-tcg" else kvm.probe()
    if name == "auto" and verdict is not None and verdict.can_boot_linux:
        from ktstr.host.engines.fallback import FallbackEngine

        try:
            engine = VmmEngine(vmm_library)
            _say_once(f"KVM can boot Linux here; using the C VMM, QEMU+KVM where it cannot bring "
                      f"the guest up ({ENGINE_ENV}=qemu-kvm for QEMU only, =vmm for the VMM only)")
            return FallbackEngine(engine, QemuEngine(accel="kvm"))
        except VmmError as exc:
            _say_once(f"the C VMM is not available ({exc}); using QEMU with KVM")
    return _qemu("qemu" if name == "auto" else name, verdict)


def _qemu(name: str, verdict: Optional[kvm.KvmVerdict] = None) -> QemuEngine:
    """qemu-tcg, qemu-kvm, or qemu: KVM if it can boot Linux, TCG otherwise (said once per
    process)."""
    if name == "qemu-tcg":
        return QemuEngine(accel="tcg")
    verdict = verdict or kvm.probe()
    if name == "qemu-kvm" and not verdict.can_boot_linux:
        raise EngineSelectionError(
            f"engine 'qemu-kvm' requested but KVM cannot boot Linux here: {verdict.reason}; "
            f"use {ENGINE_ENV}=qemu-tcg or auto"
        )
    if verdict.can_boot_linux:
        return QemuEngine(accel="kvm")
    _say_once(f"KVM cannot boot a Linux guest here ({verdict.reason}); using QEMU TCG (slower)")
    return QemuEngine(accel="tcg", fallback_reason=verdict.reason)
