"""The C VMM as an engine: boots the bzImage + initramfs on /dev/kvm through the cffi binding.

The VMM enters the kernel at its 64-bit entry with boot_params, ACPI tables (MADT/SRAT/SLIT)
and per-vCPU CPUID describing the topology; COM1 is the console, COM2 the result stream.
It needs a KVM that can run Linux (see kvm.probe); where it cannot (kvm-pvm) the engine is
still selectable by name, and the report then carries the VMM's exit reason (internal error,
RIP, instruction bytes) as evidence.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

from ktstr.host.engines import CONSOLE_TAIL_BYTES, BootResult, BootSpec, ExitKind
from ktstr.host.engines.boot_io import ConsoleFollower, concatenate_initrds, file_tail
from ktstr.host.engines.exit_kind import classify_exit
from ktstr.host.engines.vmm_binding import ExitKind as VmmExit
from ktstr.host.engines.vmm_binding import Topology, VmConfig, Vmm, VmmError, VmmSetupError


class VmmEngine:
    name = "vmm"

    def __init__(self, lib_path: Optional[Path] = None) -> None:
        self.vmm = Vmm(lib_path)  # raises VmmError naming what is missing

    def run(self, spec: BootSpec) -> BootResult:
        start = time.monotonic()
        missing = [str(p) for p in (spec.kernel, *spec.initrds) if not Path(p).is_file()]
        if missing:
            return self._error(start, f"missing boot input(s): {', '.join(missing)}")
        spec.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            initrd = concatenate_initrds(spec.initrds, spec.work_dir / "initrd.cpio")
        except (OSError, ValueError) as exc:
            return self._error(start, str(exc))
        for path in (spec.console_path, spec.result_path):
            path.parent.mkdir(parents=True, exist_ok=True)
        t = spec.topology
        with open(spec.console_path, "wb", buffering=0) as console, \
                open(spec.result_path, "wb", buffering=0) as results:
            config = VmConfig(
                topology=Topology(t.numa_nodes, t.llcs, t.cores_per_llc, t.threads_per_core),
                memory_mib=spec.memory_mib, kernel=spec.kernel, initrd=initrd,
                cmdline=spec.cmdline, console_fd=console.fileno(), com2_fd=results.fileno(),
                timeout_ms=max(1, int(spec.timeout_s * 1000)))
            follower = ConsoleFollower(spec.console_path, spec.on_console)
            follower.start()
            try:
                report = self.vmm.run(config)
            except VmmSetupError as exc:
                return self._error(start, f"the VMM could not build the VM: {exc}")
            finally:
                follower.stop()
        wall = time.monotonic() - start
        tail = file_tail(spec.console_path, CONSOLE_TAIL_BYTES)
        stream = spec.result_path.read_bytes()
        detail = [report.describe(), f"setup {report.setup_ns / 1e6:.1f} ms"]
        if report.stats:
            detail.append("kvm " + " ".join(f"{k}={v}" for k, v in sorted(report.stats.items()) if v))
        if report.kind == VmmExit.TIMEOUT:
            kind, why = ExitKind.TIMEOUT, f"killed after timeout of {spec.timeout_s:g} s"
        elif report.kind == VmmExit.INTERNAL_ERROR:
            kind, why = ExitKind.CRASH, f"KVM could not run the guest: {report.describe()}"
        else:  # shutdown (power-off, reboot, triple fault) or the debug-exit port
            kind, why = classify_exit(tail)
        return BootResult(kind, wall, tail, stream, "; ".join([why] + detail), self.name, why)

    def _error(self, start: float, why: str) -> BootResult:
        return BootResult(ExitKind.ENGINE_ERROR, time.monotonic() - start, b"", b"", why, self.name, why)


__all__ = ["VmmEngine", "VmmError"]
