"""Snapshot fan-out: boot a VM to the agent's ready point once, then start each test's VM
from that snapshot instead of booting it.

    engine = Fanout(QemuEngine("tcg"), cache_dir)   # an Engine like any other
    result = engine.run(spec)                        # spec: a runner's boot, run layer last

The template: the boot's kernel, initramfs and run layer without its run.json (test sources,
scheduler binary), plus a run.json of mode "ready" with no key. Its agent mounts, opens the
result port, writes READY_MARK there and waits (ktstr.guest.agent.await_run_json); the host
then stops QEMU and migrates it to a file (QMP `migrate exec:cat > state`). The template's
console is judged here, once: a splat or a sched_ext exit while it booted refuses the snapshot.

A clone: the same QEMU command line with `-incoming` from that file, COM1 and COM2 new pipes
(its console begins at the restore), and its own run.json, with its own per-boot key, written
into COM2 once it runs (ktstr.wire.run_config.delivery). The agent reads it from the port only
it holds before it starts anything, so the stream is signed and numbered from 0 under the
clone's key as in a fresh boot, and the console scan, windows, RunEnd and known failures
judge the clone as they judge a boot.

Snapshots are keyed by everything that shapes the VM up to the ready point (`snapshot_key`)
and kept in a directory the caller gives (the test's own temp dir, or a cache dir keyed by
content): a snapshot is never used for other inputs.
"""

from __future__ import annotations

import hashlib
import os
import json
import shlex
import socket
import subprocess
import tempfile
import time
from functools import lru_cache
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from ktstr.errors import KtstrError
from ktstr.host.engines.base import BootResult, BootSpec, ExitKind
from ktstr.host.engines.qemu import Launch, QemuEngine, node_sizes_mib
from ktstr.host.plan import ready_config
from ktstr.host.run_layer import RUN_JSON_PATH, write_run_layer
from ktstr.kernel.cache import file_sha256
from ktstr.wire.run_config import READY_MARK, SEED_BYTES, RunConfig, delivery

# The agent's ready point: before any scheduler is loaded (each clone's run.json names its
# own). Part of the key: a snapshot taken at another point is another snapshot.
READY_POINT = "agent-ready-before-scheduler"
POLL_S = 0.005


class SnapshotError(KtstrError, RuntimeError):
    """A snapshot could not be made or restored: names the step and where to look."""


def split_run_layer(layer: bytes) -> tuple[bytes, Optional[bytes]]:
    """The run layer's cpio (newc) without /ktstr/run.json, and that run.json's bytes (None:
    the layer has none, e.g. a Command's; ktstr.wire.run_config reads them). Whole entries
    are copied byte for byte: the rest of the layer stays the same archive."""
    kept = bytearray()
    config = None
    pos = 0
    while pos + 110 <= len(layer):
        if layer[pos:pos + 6] != b"070701":
            if layer[pos:pos + 1] == b"\0":
                kept += b"\0"
                pos += 1
                continue
            raise SnapshotError(f"run layer: bad cpio magic at offset {pos}: not a newc archive")
        size = int(layer[pos + 54:pos + 62], 16)
        namesize = int(layer[pos + 94:pos + 102], 16)
        name = layer[pos + 110:pos + 110 + namesize - 1].decode()
        body = pos + 110 + namesize
        body += (-body) % 4
        end = body + size
        end += (-end) % 4
        if name == RUN_JSON_PATH:
            config = layer[body:body + size]
        else:
            kept += layer[pos:end]
        pos = end
    return bytes(kept), config


def snapshot_key(engine: QemuEngine, spec: BootSpec, base_initrds: tuple[Path, ...], rest: bytes) -> str:
    """What shapes the VM up to the ready point: QEMU and its accelerator, the kernel, every
    initramfs byte but run.json, the command line, topology, memory and the ready point."""
    h = hashlib.sha256()
    for part in (_qemu_version(engine.qemu), engine.name, spec.cmdline, str(spec.topology), str(spec.memory_mib),
                 READY_POINT):
        h.update(part.encode() + b"\0")
    for path in (spec.kernel, *base_initrds):
        st = os.stat(path)
        h.update(_file_digest(str(path), st.st_size, st.st_mtime_ns).encode())
    h.update(hashlib.sha256(rest).digest())
    return h.hexdigest()[:32]


# Every clone start computes its key: QEMU's version and the kernel's and base image's
# digests (tens of MB) are taken once per process, not once per clone; a file rewritten in
# place gets a new (size, mtime) and so is read again.
@lru_cache(maxsize=None)
def _qemu_version(qemu: str) -> str:
    return subprocess.run([qemu, "--version"], capture_output=True, text=True, check=False).stdout


@lru_cache(maxsize=64)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(Path(path))


class Qmp:
    """The few QMP commands a snapshot needs, over QEMU's control socket."""

    def __init__(self, path: Path, proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.sock.connect(str(path))
                break
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SnapshotError(f"QMP socket {path}: {exc} (QEMU status {proc.poll()})") from None
                time.sleep(POLL_S)
        self.sock.settimeout(timeout_s)
        self.file = self.sock.makefile("rwb")
        self._reply()  # the greeting
        self.command("qmp_capabilities")

    def _reply(self) -> dict[str, Any]:
        while True:
            line = self.file.readline()
            if not line:
                raise SnapshotError("QEMU closed its QMP socket")
            msg = json.loads(line)
            if "event" not in msg:
                return dict(msg)

    def command(self, name: str, **arguments: Any) -> Any:
        self.file.write(json.dumps({"execute": name, "arguments": arguments}).encode() + b"\n")
        self.file.flush()
        reply = self._reply()
        if "error" in reply:
            raise SnapshotError(f"QMP {name}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return")

    def wait_for(self, name: str, key: str, wanted: set[str], failed: set[str], timeout_s: float) -> str:
        """Poll `name` until its `key` is in wanted (returned) or failed (an error)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = str(self.command(name).get(key, ""))
            if state in wanted:
                return state
            if state in failed:
                raise SnapshotError(f"QMP {name}: {key} {state}")
            time.sleep(POLL_S)
        raise SnapshotError(f"QMP {name}: {key} not {'/'.join(sorted(wanted))} after {timeout_s:g} s")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def _qmp_socket() -> tuple[Path, list[str]]:
    """A short path for the control socket (sun_path holds 108 bytes; a Bazel test's temp
    dir can be longer) and QEMU's arguments for it."""
    path = Path(tempfile.mkdtemp(prefix="ktstr-qmp-", dir="/tmp")) / "qmp"
    return path, ["-qmp", f"unix:{path},server=on,wait=off"]


@dataclass(frozen=True)
class Snapshot:
    key: str
    state: Path  # QEMU's migration stream: devices and vCPUs (RAM is in `ram`)
    ram: tuple[Path, ...]  # guest RAM, one file per memory backend (NUMA node)
    initrd: Path  # the template's initrd: a clone names it so its command line matches
    template: BootSpec  # the boot that made it
    boot_s: float  # start to ready, the template's

    def open_ram(self) -> list[int]:
        return [os.open(p, os.O_RDWR | os.O_CLOEXEC) for p in self.ram]

    def fill(self, fds: list[int]) -> None:
        """Copy the RAM files into `fds` (a monitored clone's memfds), the written parts
        only: a file's holes are guest pages the template never touched, zero in both."""
        for path, dst in zip(self.ram, fds, strict=True):
            src = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _copy_data(src, dst, os.fstat(src).st_size)
            finally:
                os.close(src)


def _copy_data(src: int, dst: int, size: int) -> None:
    pos = 0
    while pos < size:
        try:
            start = os.lseek(src, pos, os.SEEK_DATA)
        except OSError:  # ENXIO: no data past pos
            return
        end = os.lseek(src, start, os.SEEK_HOLE)
        while start < end:
            start += os.copy_file_range(src, dst, end - start, start, start)
        pos = end


def _ram_files(out: Path, spec: BootSpec) -> tuple[tuple[Path, ...], list[int]]:
    """The template's guest RAM as files (shared with QEMU), one per NUMA node: migration
    then skips them (x-ignore-shared) and clones map them copy-on-write."""
    paths, fds = [], []
    for node, mib in enumerate(node_sizes_mib(spec.topology, spec.memory_mib)):
        path = out / f"ram{node}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        os.ftruncate(fd, mib << 20)
        paths.append(path)
        fds.append(fd)
    return tuple(paths), fds


IGNORE_SHARED = [{"capability": "x-ignore-shared", "state": True}]


def _wait_ready(path: Path, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while READY_MARK not in path.read_bytes():
        if proc.poll() is not None:
            raise SnapshotError(f"the template VM ended (status {proc.returncode}) before its agent was ready")
        if time.monotonic() > deadline:
            raise SnapshotError(f"the template's agent was not ready after {timeout_s:g} s")
        time.sleep(POLL_S)


def make_snapshot(engine: QemuEngine, spec: BootSpec, base_initrds: tuple[Path, ...], rest: bytes,
                  key: str, snap_dir: Path) -> Snapshot:
    """Boot the template of `spec` to the ready point and save it under snap_dir/key."""
    out = snap_dir / key
    out.mkdir(parents=True, exist_ok=True)
    ready = ready_config(str(spec.topology))
    rest_layer = out / "layer-without-run-json.cpio"
    rest_layer.write_bytes(rest)
    ready_layer = write_run_layer(out / "ready-layer.cpio", ready.to_json(), [])
    state = out / "state"
    ram, ram_fds = _ram_files(out, spec)
    qmp_path, qmp_args = _qmp_socket()
    start = time.monotonic()
    took: list[float] = []

    def save(proc: subprocess.Popen[bytes], _com2_input: int) -> None:
        qmp = Qmp(qmp_path, proc)
        try:
            _wait_ready(template.result_path, proc, spec.timeout_s)
            took.append(time.monotonic() - start)
            qmp.command("stop")
            qmp.command("migrate-set-capabilities", capabilities=IGNORE_SHARED)
            qmp.command("migrate", uri=f"exec:cat > {shlex.quote(str(state))}")
            qmp.wait_for("query-migrate", "status", {"completed"}, {"failed", "cancelled"}, spec.timeout_s)
            qmp.command("quit")
        finally:
            qmp.close()

    template = replace(spec, initrds=(*base_initrds, rest_layer, ready_layer),
                       console_path=out / "template-console.log", result_path=out / "template-stream.bin",
                       work_dir=out / "work", on_console=None, observer=None)
    try:
        result = engine.run(template, Launch(args=tuple(qmp_args), started=save, ram_fds=tuple(ram_fds)))
    finally:
        for fd in ram_fds:
            os.close(fd)
        qmp_path.unlink(missing_ok=True)
        qmp_path.parent.rmdir()
    problem = _template_problem(result, took, state)
    if problem:
        raise SnapshotError(f"snapshot of {spec.topology} not made: {problem} (console: {template.console_path})")
    # A clone names the one initrd file (nothing joined again); the command line is the same.
    initrd = template.work_dir / "initrd.cpio"
    return Snapshot(key, state, ram, initrd, replace(template, initrds=(initrd,)), took[0])


def _template_problem(result: BootResult, took: list[float], state: Path) -> str:
    """Why a template boot cannot be a snapshot ("" when it can). Its console is judged
    here, once: the clones' consoles begin at the restore."""
    scan = result.console_scan
    if scan is not None and scan.splats:
        return f"the kernel reported {scan.splats[0][1].line!r} while the template booted"
    if scan is not None and scan.scx_exits:
        return "a sched_ext scheduler exited while the template booted"
    if not took or not state.is_file() or result.exit_kind == ExitKind.STOPPED:
        return f"{result.exit_reason or 'no ready point'}; {result.detail}"
    return ""


class Fanout:
    """An engine that starts each boot from a snapshot of its template (made on first use,
    then reused for boots with the same key). Boots without a run.json in their last layer
    (a Command's) boot as usual."""

    def __init__(self, engine: QemuEngine, snap_dir: Path) -> None:
        if not getattr(engine, "snapshots", False):
            raise SnapshotError(f"engine {engine.name} cannot snapshot and restore a VM: fan-out needs qemu")
        self.engine = engine
        self.snap_dir = snap_dir
        self.name = engine.name
        self.snapshots: dict[str, Snapshot] = {}
        self.restores = 0

    @property
    def emulated(self) -> bool:
        return self.engine.emulated

    def snapshot_for(self, spec: BootSpec) -> tuple[Optional[Snapshot], Optional[RunConfig]]:
        """The snapshot of this boot's template (made now when new) and its run.json; (None,
        None) for a boot without one."""
        *base, layer = spec.initrds
        rest, config = split_run_layer(Path(layer).read_bytes())
        if config is None:
            return None, None
        key = snapshot_key(self.engine, spec, tuple(base), rest)
        if key not in self.snapshots:
            self.snapshots[key] = make_snapshot(self.engine, spec, tuple(base), rest, key, self.snap_dir)
        return self.snapshots[key], RunConfig.parse(config, f"the run layer's /{RUN_JSON_PATH}")

    def run(self, spec: BootSpec) -> BootResult:
        try:
            snap, config = self.snapshot_for(spec)
        except (OSError, KtstrError) as exc:  # a SnapshotError, a RunConfigError
            return _engine_error(self.name, spec, str(exc))
        if snap is None or config is None:
            return self.engine.run(spec)
        return self.restore(snap, spec, config)

    def restore(self, snap: Snapshot, spec: BootSpec, config: RunConfig) -> BootResult:
        """One clone of `snap` that runs `config` (its own key), judged as a boot of `spec`."""
        sent = delivery(config, os.urandom(SEED_BYTES))
        qmp_path, qmp_args = _qmp_socket()

        def deliver(proc: subprocess.Popen[bytes], com2_input: int) -> None:
            qmp = Qmp(qmp_path, proc)
            try:
                qmp.command("migrate-set-capabilities", capabilities=IGNORE_SHARED)
                qmp.command("migrate-incoming", uri=f"exec:cat {shlex.quote(str(snap.state))}")
                # Input written before the restore ends would reach the UART before its
                # state is loaded, and be lost with the old state. The template was stopped
                # when saved, so its clone comes up paused.
                qmp.wait_for("query-status", "status", {"paused", "running"}, {"internal-error", "shutdown"},
                             spec.timeout_s)
                qmp.command("cont")
            finally:
                qmp.close()
            view = memoryview(sent)
            while view:
                view = view[os.write(com2_input, view):]

        ram_fds = [] if spec.observer is not None else snap.open_ram()
        launch = Launch(args=(*qmp_args, "-incoming", "defer"), initrd=snap.initrd, com2_input=True,
                        started=deliver, ram_fds=tuple(ram_fds), ram_private=True, fill_ram=snap.fill)
        # The template's arguments exactly (kernel, cmdline, topology, memory), this boot's files.
        clone = replace(snap.template, console_path=spec.console_path, result_path=spec.result_path,
                        work_dir=spec.work_dir, timeout_s=spec.timeout_s, on_console=spec.on_console,
                        observer=spec.observer)
        self.restores += 1
        try:
            result = self.engine.run(clone, launch)
        finally:
            for fd in ram_fds:
                os.close(fd)
            qmp_path.unlink(missing_ok=True)
            qmp_path.parent.rmdir()
        result.detail = f"restored from snapshot {snap.key[:12]}; {result.detail}"
        return result


def _engine_error(engine: str, spec: BootSpec, why: str) -> BootResult:
    from ktstr.host.engines.boot_io import BootIO

    return BootIO(engine, spec).error(why, [])


__all__ = ["Fanout", "Snapshot", "SnapshotError", "make_snapshot", "snapshot_key", "split_run_layer"]
