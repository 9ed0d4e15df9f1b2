"""The C VMM as an engine: boots the bzImage + initramfs on /dev/kvm through the cffi binding.

The VMM enters the kernel at its 64-bit entry with boot_params, ACPI tables (MADT/SRAT/SLIT)
and per-vCPU CPUID describing the topology; COM1 is the console, COM2 the result stream.
It needs a KVM that can run Linux (see kvm.probe); where it cannot (kvm-pvm) the engine is
still selectable by name, and the report then carries the VMM's exit reason (internal error,
RIP, instruction bytes) as evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ktstr.host import children
from ktstr.host.engines.base import BootResult, BootSpec, ExitKind
from ktstr.host.engines.boot_io import BootInputError, BootIO
from ktstr.host.engines.classify import classify_exit
from ktstr.host.engines.vmm_binding import VmConfig, Vmm, VmmError, VmmSetupError
from ktstr.wire.vmm_report import VmExit


# vmm/x86/x86.h KTSTR_MMIO_GAP_START: guest RAM above this sits from 4 GiB.
VMM_LOW_RAM_END = 0xC0000000


class VmmEngine:
    name = "vmm"
    emulated = False  # KVM runs the guest's instructions

    def __init__(self, lib_path: Optional[Path] = None) -> None:
        self.vmm = Vmm(lib_path)  # raises VmmError naming what is missing

    def run(self, spec: BootSpec) -> BootResult:
        io = BootIO(self.name, spec)
        try:
            initrd = io.prepare()
        except BootInputError as exc:
            return io.error(str(exc))
        memory_fd = None
        stopped: list[str] = []  # why the host ended the VM (the first reason)

        def stop(reason: str) -> None:  # from the monitor's thread or a signal handler
            if not stopped:
                stopped.append(reason)
            self.vmm.stop()

        if spec.observer is not None:
            size = spec.memory_mib << 20
            memory_fd = spec.observer.ram_fds([size], min(size, VMM_LOW_RAM_END))[0]
            spec.observer.vm_started(stop)
        try:
            with io.following() as pipes:
                config = VmConfig(
                    topology=spec.topology, memory_mib=spec.memory_mib, kernel=spec.kernel, initrd=initrd,
                    cmdline=spec.cmdline, console_fd=pipes.console, com2_fd=pipes.results,
                    timeout_ms=max(1, int(spec.timeout_s * 1000)), memory_fd=memory_fd)
                with children.stoppable(stop):
                    report = self.vmm.run(config, lambda: bool(stopped))
        except VmmSetupError as exc:
            return io.error(f"the VMM could not build the VM: {exc}")
        finally:
            if spec.observer is not None:
                spec.observer.vm_stopped()
        tail = io.console_tail()
        detail = [report.describe(), f"setup {report.setup_ns / 1e6:.1f} ms"]
        if report.stats:
            detail.append("kvm " + " ".join(f"{k}={v}" for k, v in sorted(report.stats.items()) if v))
        if report.kind == VmExit.STOPPED:
            kind, why = ExitKind.STOPPED, f"stopped by the host: {stopped[0] if stopped else report.message}"
        elif report.kind == VmExit.TIMEOUT:
            kind, why = ExitKind.TIMEOUT, f"killed after timeout of {spec.timeout_s:g} s"
        elif report.kind == VmExit.INTERNAL_ERROR:
            kind, why = ExitKind.CRASH, f"KVM could not run the guest: {report.describe()}"
        else:  # shutdown (power-off, reboot, triple fault) or the debug-exit port
            kind, why = classify_exit(tail)
        return io.result(kind, why, detail, tail)


__all__ = ["VmmEngine", "VmmError"]
