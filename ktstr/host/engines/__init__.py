"""Engines boot a kernel + initramfs with a CPU topology and hand back what happened.

One interface for every way of running a guest (QEMU with KVM, QEMU with TCG, the C VMM):
`Engine.run(BootSpec) -> BootResult` (base.py). The runner never cares which engine ran;
it asks `engine.emulated` when the guest's timing limits depend on it.

    base.py      BootSpec, BootResult, ExitKind, the Engine protocol
    boot_io.py   what every engine does around a boot (inputs, initrd, console, tails)
    classify.py  how the guest ended, from its console
    select.py    ENGINE_SPECS (one EngineSpec per name: its capabilities), EngineOptions,
                 select_engine: names, $KTSTR_ENGINE, auto
    qemu.py vmm.py (+ vmm_binding.py) fallback.py   the engines
    kvm.py       can this host's KVM boot Linux?
"""

from ktstr.host.engines.base import CONSOLE_TAIL_BYTES, BootObserver, BootResult, BootSpec, Engine, ExitKind
from ktstr.host.engines.select import (ENGINE_ENV, ENGINE_NAMES, ENGINE_SPECS, EngineOptions, EngineSelectionError,
                                       EngineSpec, requested_engine, select_engine)

__all__ = ["CONSOLE_TAIL_BYTES", "ENGINE_ENV", "ENGINE_NAMES", "ENGINE_SPECS", "BootObserver", "BootResult", "BootSpec",
           "Engine", "EngineOptions", "EngineSelectionError", "EngineSpec", "ExitKind", "requested_engine",
           "select_engine"]
