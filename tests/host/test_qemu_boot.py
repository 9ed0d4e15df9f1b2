"""The QEMU engine against a real kernel: Linux must see the topology we asked for, and the
engine must report power-off, panic and hang endings correctly (busybox guests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ktstr.host.engines import BootSpec, ExitKind
from ktstr.host.engines.qemu import QemuEngine
from ktstr.host.runner import BASE_CMDLINE
from ktstr.topology import Topology

HERE = Path(__file__).resolve().parent


def _find_kernel() -> Path | None:
    env = os.environ.get("KTSTR_TEST_KERNEL")
    if env:
        return Path(env)
    for candidate in (Path("kernels/default/bzImage"), Path("bazel-bin/kernels/default/bzImage")):
        if candidate.is_file():
            return candidate
    return None


KERNEL = _find_kernel()
needs_kernel = pytest.mark.skipif(
    KERNEL is None, reason="no kernel: run under Bazel (data //kernels:default) or set KTSTR_TEST_KERNEL")


@pytest.fixture(scope="module")
def initramfs(tmp_path_factory):
    out = tmp_path_factory.mktemp("initramfs")
    paths = {}
    for mode in ("topo", "hang", "panic"):
        paths[mode] = out / f"{mode}.cpio"
        subprocess.run([sys.executable, str(HERE / "busybox_initramfs.py"), mode, "/bin/busybox", str(paths[mode])],
                       check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return paths


def _boot(tmp_path, initrd, topo="1n1l2c1t", timeout=60.0, memory=256):
    topology = Topology.parse(topo)
    spec = BootSpec(KERNEL, (initrd,), BASE_CMDLINE, topology, memory * topology.numa_nodes, timeout,
                    tmp_path / "console.log", tmp_path / "result.bin", tmp_path / "work")
    return QemuEngine("tcg").run(spec)


def _llc_groups(console: str) -> list[str]:
    return sorted(set(re.findall(r"cpu\d+ llc=(\S+)", console)))


@needs_kernel
@pytest.mark.parametrize("topo, groups, nodes", [
    ("1n1l2c1t", ["0-1"], 1),
    ("1n2l2c1t", ["0-1", "2-3"], 1),
    ("1n2l1c2t", ["0-1", "2-3"], 1),
    ("2n2l2c1t", ["0-1", "2-3"], 2),
])
def test_linux_sees_the_requested_llcs_and_nodes(tmp_path, initramfs, topo, groups, nodes):
    result = _boot(tmp_path, initramfs["topo"], topo)
    console = result.console_tail.decode(errors="replace")
    assert result.exit_kind == ExitKind.POWEROFF, result.detail
    cpus = Topology.parse(topo).cpus
    assert f"NCPU {cpus}" in console
    assert _llc_groups(console) == groups
    assert len(re.findall(r"^node\d+\s*$", console, re.M)) == nodes


@needs_kernel
def test_hang_is_killed_at_the_timeout(tmp_path, initramfs):
    result = _boot(tmp_path, initramfs["hang"], timeout=6.0)
    assert result.exit_kind == ExitKind.TIMEOUT
    assert result.exit_reason == "killed after timeout of 6 s"
    assert 6.0 <= result.wall_s < 9.0
    assert b"hanging on purpose" in result.console_tail


@needs_kernel
def test_init_exit_is_a_crash_with_the_panic_line(tmp_path, initramfs):
    result = _boot(tmp_path, initramfs["panic"])
    assert result.exit_kind == ExitKind.CRASH
    assert "Attempted to kill init" in result.exit_reason
