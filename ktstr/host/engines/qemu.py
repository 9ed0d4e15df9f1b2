"""QEMU engine: qemu-system-x86_64 with KVM or TCG, topology from -smp/-numa.

Topology mapping (QEMU 7.2, x86):
  -smp sockets = numa_nodes, dies = llcs / numa_nodes, cores = cores_per_llc,
       threads = threads_per_core
QEMU describes the L3 cache in CPUID leaf 4 as shared by all CPUs of one die, so Linux sees
one LLC per die (cache/index3/shared_cpu_list), and QEMU numbers CPUs socket-major, then die,
core, thread: exactly ktstr.topology's numbering. NUMA node i gets socket i's CPUs and an
equal share of memory. The CPU model is forced to GenuineIntel so Linux reads the cache
sharing from leaf 4 (QEMU's default qemu64 says AuthenticAMD without TOPOEXT, for which
Linux derives the LLC differently).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from ktstr.errors import KtstrError
from ktstr.host import children
from ktstr.host.engines.base import BootResult, BootSpec, ExitKind
from ktstr.host.engines.boot_io import BootInputError, BootIO, GuestPipes
from ktstr.host.engines.classify import classify_exit
from ktstr.host.engines.pc_ram import pc_ram_split
from ktstr.topology import Topology


class QemuConfigError(KtstrError, ValueError):
    """A QEMU command line this engine cannot build (topology, memory, accelerator, RAM fds)."""


QEMU_BINARY_ENV = "KTSTR_QEMU"
DEFAULT_QEMU = "qemu-system-x86_64"

# TCG: a named CPU model whose features TCG implements, with the Intel vendor string (see
# module docstring). KVM: the host CPU.
TCG_CPU = "qemu64,vendor=GenuineIntel,+ssse3,+sse4.1,+sse4.2,+popcnt,l3-cache=on"
KVM_CPU = "host,l3-cache=on"


def node_sizes_mib(topo: Topology, memory_mib: int) -> list[int]:
    """Guest RAM per NUMA node, in node order (the last node takes the remainder)."""
    n = topo.numa_nodes
    per_node = memory_mib // n
    return [per_node if node < n - 1 else memory_mib - per_node * (n - 1) for node in range(n)]


def shared_ram_args(topo: Topology, memory_mib: int, fds: list[int], share: bool = True) -> list[str]:
    """Guest RAM in the host's memfds (share=on), one backend per node, so the host can
    read it while the guest runs. QEMU opens /proc/self/fd/N: the fds are inherited.
    share=False: a private copy-on-write mapping of the files (a snapshot's clone)."""
    sizes = node_sizes_mib(topo, memory_mib)
    if len(fds) != len(sizes):
        raise QemuConfigError(f"{len(sizes)} RAM backend(s) need as many fds, got {len(fds)}")
    return [f"memory-backend-file,id=mem{i},size={size}M,mem-path=/proc/self/fd/{fd},share={'on' if share else 'off'}"
            for i, (size, fd) in enumerate(zip(sizes, fds, strict=True))]


def serial_paths(spec: BootSpec, pipes: Optional[GuestPipes]) -> tuple[str, str]:
    """Where QEMU's file chardevs for COM1 and COM2 write: BootIO's pipes (inherited, opened
    as /proc/self/fd/N), or the boot's files (a command line for people to rerun)."""
    if pipes is None:
        return str(spec.console_path), str(spec.result_path)
    return f"/proc/self/fd/{pipes.console}", f"/proc/self/fd/{pipes.results}"


def topology_args(topo: Topology, memory_mib: int, ram_fds: Optional[list[int]] = None,
                  share: bool = True) -> list[str]:
    """-smp / -m / -numa arguments for a topology; raises ValueError naming the bad input.
    `ram_fds`: back guest RAM with these files (shared_ram_args) instead of anonymous memory."""
    n, llcs, c, t = topo.numa_nodes, topo.llcs, topo.cores_per_llc, topo.threads_per_core
    for label, value in (("numa_nodes", n), ("llcs", llcs), ("cores_per_llc", c), ("threads_per_core", t)):
        if value < 1:
            raise QemuConfigError(f"topology {label} must be >= 1, got {value}")
    if llcs % n:
        raise QemuConfigError(f"topology llcs ({llcs}) must be divisible by numa_nodes ({n})")
    if memory_mib < 64 * n:
        raise QemuConfigError(f"memory_mib {memory_mib} is too small for {n} NUMA node(s): need >= {64 * n}")
    topo.check_xapic()  # a TopologyError (ValueError) naming the topology
    dies = llcs // n
    cpus = n * dies * c * t
    args = [
        "-smp", f"cpus={cpus},sockets={n},dies={dies},cores={c},threads={t}",
        "-m", f"{memory_mib}M",
    ]
    backends = (shared_ram_args(topo, memory_mib, ram_fds, share) if ram_fds is not None else
                [f"memory-backend-ram,id=mem{i},size={size}M"
                 for i, size in enumerate(node_sizes_mib(topo, memory_mib))])
    if n > 1:
        cpus_per_node = dies * c * t
        for node in range(n):
            first = node * cpus_per_node
            last = first + cpus_per_node - 1
            args += [
                "-object", backends[node],
                "-numa", f"node,nodeid={node},cpus={first}-{last},memdev=mem{node}",
            ]
    elif ram_fds is not None:
        args += ["-object", backends[0], "-machine", "memory-backend=mem0"]
    return args


@dataclass(frozen=True)
class Launch:
    """What a snapshot's boots add to a plain one (ktstr.host.snapshot makes them): more
    arguments (-qmp, -incoming), the initrd to name instead of the spec's (a clone names its
    template's: the command lines must match), COM2 as a two-way pipe, and a step run once
    QEMU is up (`started(proc, com2_input)`, the write end of COM2's input or -1); what it
    raises stops the VM with its text.
    Guest RAM is always in files here (explicit memory backends, the same in the template and
    its clones): `ram_fds` (the caller's, shared, or private copy-on-write mappings with
    `ram_private`), or the observer's memfds, which `fill_ram` fills first (a monitored clone)."""

    args: tuple[str, ...] = ()
    initrd: Optional[Path] = None
    com2_input: bool = False
    started: Optional[Callable[[subprocess.Popen[bytes], int], None]] = None
    ram_fds: tuple[int, ...] = ()
    ram_private: bool = False
    fill_ram: Optional[Callable[[list[int]], None]] = None


def _two_way_com2(work_dir: Path, com2_input: int, results: int) -> str:
    """A pipe chardev for COM2: QEMU opens <base>.in and <base>.out, here links to the
    inherited descriptors (resolved in QEMU's own /proc/self)."""
    base = work_dir / "com2"
    for suffix, fd in ((".in", com2_input), (".out", results)):
        link = Path(f"{base}{suffix}")
        link.unlink(missing_ok=True)
        link.symlink_to(f"/proc/self/fd/{fd}")
    return f"pipe,id=com2,path={base}"


class QemuEngine:
    # Can boot to the agent's ready point, snapshot, and restore clones (ktstr.host.snapshot).
    snapshots = True

    def __init__(self, accel: str = "tcg", fallback_reason: Optional[str] = None,
                 qemu: Optional[str] = None) -> None:
        if accel not in ("kvm", "tcg"):
            raise QemuConfigError(f"accel must be kvm or tcg, got {accel!r}")
        self.accel = accel
        self.fallback_reason = fallback_reason
        self.qemu = qemu or os.environ.get(QEMU_BINARY_ENV) or DEFAULT_QEMU
        self.name = f"qemu-{accel}"

    @property
    def emulated(self) -> bool:
        return self.accel == "tcg"

    def command(self, spec: BootSpec, initrd: Path, ram_fds: Optional[list[int]] = None,
                pipes: Optional[GuestPipes] = None, com2_chardev: str = "", share: bool = True) -> list[str]:
        """`pipes`: COM1 and COM2 into these inherited descriptors (BootIO's) instead of the files.
        `com2_chardev`: COM2's chardev instead (a Launch's two-way pipe)."""
        com1, com2 = serial_paths(spec, pipes)
        return [
            self.qemu,
            "-M", f"pc,accel={self.accel}",
            "-cpu", KVM_CPU if self.accel == "kvm" else TCG_CPU,
            *topology_args(spec.topology, spec.memory_mib, ram_fds, share),
            "-nodefaults", "-no-user-config", "-nographic", "-vga", "none",
            "-monitor", "none", "-net", "none",
            "-chardev", f"file,id=com1,path={com1}",
            "-serial", "chardev:com1",
            "-chardev", com2_chardev or f"file,id=com2,path={com2}",
            "-serial", "chardev:com2",
            "-no-reboot",
            "-kernel", str(spec.kernel),
            "-initrd", str(initrd),
            "-append", spec.cmdline,
        ]

    def _check_binary(self) -> None:
        if shutil.which(self.qemu) is None:
            raise BootInputError(f"{self.qemu} not found on PATH (install qemu-system-x86 or set {QEMU_BINARY_ENV})")

    def run(self, spec: BootSpec, launch: Optional[Launch] = None) -> BootResult:
        io = BootIO(self.name, spec)
        detail = [f"accel={self.accel}"]
        if self.fallback_reason:
            detail.append(f"TCG because {self.fallback_reason}")
        ram_fds: Optional[list[int]] = None
        try:
            io.check_inputs()
            self._check_binary()
            initrd = io.prepare()
            if launch is not None and launch.initrd is not None:
                initrd = launch.initrd
            sizes = [m << 20 for m in node_sizes_mib(spec.topology, spec.memory_mib)]
            share = True
            if spec.observer is not None:
                ram_fds = spec.observer.ram_fds(sizes, pc_ram_split(sum(sizes)))
                if launch is not None and launch.fill_ram is not None:
                    launch.fill_ram(ram_fds)
            elif launch is not None:
                ram_fds, share = list(launch.ram_fds), not launch.ram_private
            cmd = self.command(spec, initrd, ram_fds, share=share) + list(launch.args if launch else ())
        except (OSError, ValueError) as exc:  # BootInputError, a TopologyError, ...
            if spec.observer is not None:
                spec.observer.vm_stopped()
            return io.error(str(exc), detail)
        qemu_log = spec.work_dir / "qemu.log"
        (spec.work_dir / "qemu.cmd").write_text(" ".join(cmd) + "\n")
        com2_in = (-1, -1)
        if launch is not None and launch.com2_input:
            com2_in = os.pipe()
        with open(qemu_log, "wb") as log, io.following() as pipes:
            chardev = _two_way_com2(spec.work_dir, com2_in[0], pipes.results) if com2_in[0] >= 0 else ""
            passed = (*(ram_fds or ()), *pipes.pass_fds(), *(fd for fd in com2_in[:1] if fd >= 0))
            # Its own session (a Ctrl-C must not reach it before the runner decides), dying
            # with the runner however that ends (ktstr.host.children). COM1/COM2 into the pipes.
            cmd = self.command(spec, initrd, ram_fds, pipes, chardev, share) + list(launch.args if launch else ())
            proc = children.spawn(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=passed)
            # A timer kills at the deadline; the wait itself blocks in waitpid (polling with
            # Popen.wait(timeout=...) would add up to 50 ms to every run).
            deadline = _Deadline(proc, spec.timeout_s)
            children.on_stop(proc, deadline.stop)
            if spec.observer is not None:
                spec.observer.vm_started(deadline.stop)
            try:
                if launch is not None and launch.started is not None:
                    try:
                        launch.started(proc, com2_in[1])
                    except (OSError, KtstrError) as exc:
                        detail.append(f"snapshot step failed: {exc}")
                        deadline.stop(f"snapshot step failed: {exc}")
                proc.wait()
            finally:
                deadline.cancel()
                children.release(proc)
                for fd in com2_in:
                    if fd >= 0:
                        os.close(fd)
                if spec.observer is not None:
                    spec.observer.vm_stopped()
        console = io.console_tail()
        qemu_bytes = qemu_log.read_bytes()
        qemu_out = qemu_bytes.decode("utf-8", "replace").strip()
        if deadline.stopped:
            kind, why = ExitKind.STOPPED, f"stopped by the host: {deadline.stopped}"
        elif deadline.fired:
            kind, why = ExitKind.TIMEOUT, f"killed after timeout of {spec.timeout_s:g} s"
        elif proc.returncode != 0:
            kind, why = ExitKind.ENGINE_ERROR, f"{Path(self.qemu).name} exited with status {proc.returncode}"
        else:
            kind, why = classify_exit(console)
        if qemu_out:
            detail.append(f"qemu said: {qemu_out[-2000:]}")
        if b"KVM internal error" in qemu_bytes:
            detail.append("KVM could not emulate the guest: rerun with KTSTR_ENGINE=qemu-tcg")
        result = io.result(kind, why, detail, console)
        if kind == ExitKind.ENGINE_ERROR and qemu_out:
            result.exit_reason = f"{why}: {qemu_out.splitlines()[-1]}"
        return result

    def interactive(self, spec: BootSpec) -> int:
        """Boot with COM1 (the console) on this process's stdin/stdout and no timeout; the
        result port goes nowhere. Returns QEMU's exit status. Ctrl-A X quits QEMU, Ctrl-C
        reaches the guest."""
        io = BootIO(self.name, spec)
        self._check_binary()
        cmd = self.command(spec, io.prepare())
        cmd[cmd.index(f"file,id=com1,path={spec.console_path}")] = "stdio,id=com1,mux=on,signal=off"
        cmd[cmd.index(f"file,id=com2,path={spec.result_path}")] = "null,id=com2"
        # On this terminal (its process group), but still dying with the runner.
        proc = children.spawn(cmd, own_session=False)
        try:
            return proc.wait()
        finally:
            children.release(proc)


class _Deadline:
    """Kills QEMU at the deadline, or earlier when the host asks (`stop`, with a reason)."""

    def __init__(self, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
        self.proc = proc
        self.fired = False
        self.stopped = ""
        self._timer = threading.Timer(timeout_s, self._kill)
        self._timer.daemon = True
        self._timer.start()

    def _kill(self) -> None:
        if self.proc.poll() is None:
            self.fired = True
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self, reason: str) -> None:
        if self.proc.poll() is None and not self.fired and not self.stopped:
            self.stopped = reason
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def cancel(self) -> None:
        self._timer.cancel()
