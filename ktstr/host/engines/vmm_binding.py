"""Python binding of the C VMM (vmm/include/ktstr_vmm.h) through cffi, ABI mode.

ABI mode (dlopen of libktstr_vmm.so) needs no compiler at run time; the price is a cdef that
must match the header, so `load()` checks the struct sizes against the library's own
`ktstr_vmm_abi_size()` and refuses a mismatched build. cffi releases the GIL during the call,
so a running VM does not stop Python threads (the console follower). `Vmm.run` calls it from
a worker thread: the main thread, where Python runs signal handlers, stays free to take a
SIGTERM and end the VM through `ktstr_vm_stop`.
"""

from __future__ import annotations

import errno as errno_mod
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import cffi

from ktstr.errors import KtstrError
from ktstr.topology import Topology
from ktstr.wire.vmm_report import VmExit, VmmExitReport

LIB_NAME = "libktstr_vmm.so"

CDEF = """
struct ktstr_topology {
    uint32_t numa_nodes;
    uint32_t llcs;
    uint32_t cores_per_llc;
    uint32_t threads_per_core;
};
struct ktstr_vm_config {
    struct ktstr_topology topo;
    uint64_t memory_mib;
    const char *kernel_path;
    const char *initrd_path;
    const char *cmdline;
    const char *guest_path;
    int console_fd;
    int com2_fd;
    uint32_t timeout_ms;
    uint32_t flags;
    int memory_fd;
};
enum ktstr_exit_kind {
    KTSTR_EXIT_DEBUG_PORT = 1,
    KTSTR_EXIT_TIMEOUT,
    KTSTR_EXIT_SHUTDOWN,
    KTSTR_EXIT_INTERNAL_ERROR,
    KTSTR_EXIT_SETUP_ERROR,
    KTSTR_EXIT_STOPPED,
};
struct ktstr_vm_stat {
    char name[48];
    uint64_t value;
};
struct ktstr_vm_report {
    enum ktstr_exit_kind kind;
    int32_t exit_status;
    uint64_t rip;
    uint8_t insn[16];
    uint32_t insn_len;
    uint32_t vcpus;
    uint64_t setup_ns;
    uint64_t run_ns;
    int32_t error_errno;
    uint32_t nr_stats;
    struct ktstr_vm_stat stats[12];
    char message[256];
};
int ktstr_vm_run(const struct ktstr_vm_config *cfg, struct ktstr_vm_report *report);
int ktstr_vm_stop(void);
uint32_t ktstr_apic_id(const struct ktstr_topology *topo, uint32_t cpu);
uint32_t ktstr_vmm_abi_size(uint32_t which);
"""

FLAG_SIPI = 1
FLAG_MEMORY_FD = 2


class VmmError(KtstrError, RuntimeError):
    """The VMM library could not be loaded or does not match this binding."""


class VmmSetupError(KtstrError, OSError):
    """The VM could not be built: `call` names the ioctl/step, errno the reason."""

    def __init__(self, message: str, err: int) -> None:
        super().__init__(err, message)
        self.call = message.split(":", 1)[0]
        self.message = message

    def __str__(self) -> str:
        name = errno_mod.errorcode.get(self.errno, str(self.errno)) if self.errno else ""
        return f"{self.message}" + (f" [{name}]" if name else "")


@dataclass
class VmConfig:
    topology: Topology
    memory_mib: int = 64
    kernel: Optional[Path] = None  # bzImage: boots Linux
    initrd: Optional[Path] = None
    cmdline: str = ""
    guest: Optional[Path] = None  # synthetic flat binary
    console_fd: int = -1
    com2_fd: int = -1
    timeout_ms: int = 0
    sipi: bool = False
    memory_fd: Optional[int] = None  # back guest RAM with this file (shared), e.g. a memfd


def find_library() -> Optional[Path]:
    """The Bazel output of a source checkout (callers that know the library pass its path:
    the Bazel test config does, `ktstr run --vmm-library` does)."""
    root = Path(__file__).resolve().parents[3]
    for candidate in (root / "bazel-bin" / "vmm" / LIB_NAME, root / "vmm" / LIB_NAME):
        if candidate.is_file():
            return candidate
    return None


class Vmm:
    def __init__(self, lib_path: Optional[Path] = None) -> None:
        path = lib_path or find_library()
        if path is None or not Path(path).is_file():
            raise VmmError(f"{LIB_NAME} not found at {path or 'bazel-bin/vmm'} (build //vmm:{LIB_NAME} "
                           f"and pass its path, e.g. ktstr run --vmm-library)")
        self.ffi = cffi.FFI()
        self.ffi.cdef(CDEF)
        try:
            self.lib = self.ffi.dlopen(str(path))
        except OSError as exc:
            raise VmmError(f"cannot load {path}: {exc}") from exc
        for which, struct in ((0, "struct ktstr_vm_config"), (1, "struct ktstr_vm_report")):
            theirs, ours = self.lib.ktstr_vmm_abi_size(which), self.ffi.sizeof(struct)
            if theirs != ours:
                raise VmmError(f"{path}: sizeof({struct}) is {theirs}, the binding expects {ours}: "
                               "rebuild //vmm or update ktstr/host/engines/vmm_binding.py")
        self.path = Path(path)

    def apic_id(self, topology: Topology, cpu: int) -> int:
        topo = self.ffi.new("struct ktstr_topology *", _topo_dict(topology))
        return int(self.lib.ktstr_apic_id(topo, cpu))

    # How often a pending stop is asked again: a VM still being built is not yet stoppable.
    STOP_POLL_S = 0.05

    def stop(self) -> None:
        """End the VM that `run` is running (from any thread)."""
        self.lib.ktstr_vm_stop()

    def run(self, config: VmConfig, stop_requested: Callable[[], bool] = lambda: False) -> VmmExitReport:
        """Run the VM to its end, or until `stop_requested()` holds. Raises VmmSetupError when
        it cannot be built. ktstr_vm_run runs in a worker thread: the calling (main) thread
        waits in short slices, so it runs Python's signal handlers (whose stop sets
        `stop_requested`) within a slice wherever the kernel delivered the signal."""
        done: list[Any] = []
        worker = threading.Thread(target=lambda: done.append(self._run(config)), name="ktstr-vmm", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                if stop_requested():
                    self.stop()
                worker.join(self.STOP_POLL_S)
        except BaseException:
            # A second Ctrl-C (KeyboardInterrupt) or any error here: the VM must be gone
            # before the caller closes the descriptors it writes to.
            while worker.is_alive():
                self.stop()
                worker.join(self.STOP_POLL_S)
            raise
        if not done:
            raise VmmError("the VMM's thread ended without a report")
        if isinstance(done[0], BaseException):
            raise done[0]
        report: VmmExitReport = done[0]
        return report

    def _run(self, config: VmConfig) -> "VmmExitReport | BaseException":
        try:
            return self._run_blocking(config)
        except BaseException as exc:  # noqa: BLE001 - anything, handed to the caller's thread (re-raised there)
            return exc

    def _run_blocking(self, config: VmConfig) -> VmmExitReport:
        keep = []  # the C strings must outlive the call

        def cstr(value: object) -> object:
            if value is None:
                return self.ffi.NULL
            s = self.ffi.new("char[]", os.fsencode(str(value)))
            keep.append(s)
            return s

        cfg = self.ffi.new("struct ktstr_vm_config *")
        cfg.topo = _topo_dict(config.topology)
        cfg.memory_mib = config.memory_mib
        cfg.kernel_path = cstr(config.kernel)
        cfg.initrd_path = cstr(config.initrd)
        cfg.cmdline = cstr(config.cmdline if config.kernel else None)
        cfg.guest_path = cstr(config.guest)
        cfg.console_fd = config.console_fd
        cfg.com2_fd = config.com2_fd
        cfg.timeout_ms = config.timeout_ms
        cfg.flags = (FLAG_SIPI if config.sipi else 0) | (FLAG_MEMORY_FD if config.memory_fd is not None else 0)
        cfg.memory_fd = -1 if config.memory_fd is None else config.memory_fd
        report = self.ffi.new("struct ktstr_vm_report *")
        rc = self.lib.ktstr_vm_run(cfg, report)
        message = self.ffi.string(report.message).decode("utf-8", "replace")
        if rc < 0:
            raise VmmSetupError(message, report.error_errno)
        return VmmExitReport(
            kind=VmExit(report.kind),
            exit_status=report.exit_status,
            rip=report.rip,
            insn=bytes(report.insn[0:report.insn_len]),
            vcpus=report.vcpus,
            setup_ns=report.setup_ns,
            run_ns=report.run_ns,
            message=message,
            stats={self.ffi.string(s.name).decode(): s.value for s in report.stats[0:report.nr_stats]},
        )


def _topo_dict(t: Topology) -> dict[str, Any]:
    return {"numa_nodes": t.numa_nodes, "llcs": t.llcs, "cores_per_llc": t.cores_per_llc,
            "threads_per_core": t.threads_per_core}
