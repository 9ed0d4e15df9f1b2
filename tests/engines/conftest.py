"""Shared fixtures of the engine conformance suite: the kernel, the busybox guests, and
every engine this host can run (the others skip with the reason)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ktstr.host.engines import Engine, kvm
from tests.vm_inputs import default_kernel_file

BUSYBOX_INITRAMFS = Path("tests/host/busybox_initramfs.py")
VMM_LIBRARY = Path("vmm/libktstr_vmm.so")
# Which engines this target runs the suite on (conformance_vmm_nested_test: vmm-nested only).
ENGINES = tuple(os.environ.get("KTSTR_CONFORMANCE_ENGINES", "qemu-tcg,qemu-kvm,vmm,vmm-nested").split(","))
GUESTS = ("topo", "hang", "panic", "corrupt")


def _find_kernel() -> Path | None:
    env = os.environ.get("KTSTR_TEST_KERNEL")
    if env:
        return Path(env)
    return default_kernel_file()


@pytest.fixture(scope="session")
def kernel() -> Path:
    found = _find_kernel()
    if found is None:
        pytest.skip("no kernel: run under Bazel (data //kernels:default) or set KTSTR_TEST_KERNEL")
    return found


@pytest.fixture(scope="session")
def guests(tmp_path_factory) -> dict[str, Path]:
    """mode -> busybox initramfs whose /init does that (tests/host/busybox_initramfs.py)."""
    out = tmp_path_factory.mktemp("guests")
    paths = {}
    for mode in GUESTS:
        paths[mode] = out / f"{mode}.cpio"
        subprocess.run([sys.executable, str(BUSYBOX_INITRAMFS), mode, "/bin/busybox", str(paths[mode])],
                       check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return paths


@pytest.fixture(params=ENGINES)
def engine(request) -> Engine:
    name = request.param
    if name == "vmm-nested":
        # Minutes per boot (L2 on one TCG-emulated vCPU): //tests/engines:conformance_vmm_nested_test
        # has the L1 test bed in its runfiles; elsewhere opt in, with the L1 test bed
        # (//kernels:l1_host, //vmm:l1_initramfs) named by KTSTR_L1_KERNEL / KTSTR_L1_INITRAMFS.
        if os.environ.get("KTSTR_L1_KERNEL_FILES"):
            return _vmm_nested()
        if os.environ.get("KTSTR_CONFORMANCE_NESTED") != "1":
            pytest.skip("engine vmm-nested: minutes per boot; set KTSTR_CONFORMANCE_NESTED=1 (with "
                        "KTSTR_L1_KERNEL and KTSTR_L1_INITRAMFS) to run the suite on it")
        from ktstr.host.engines import EngineSelectionError, select_engine

        try:
            return select_engine("vmm-nested")
        except EngineSelectionError as exc:
            pytest.skip(f"engine vmm-nested: {exc}")
    if name == "qemu-tcg":
        from ktstr.host.engines.qemu import QemuEngine

        return QemuEngine("tcg")
    verdict = kvm.probe()
    if not verdict.can_boot_linux:
        pytest.skip(f"engine {name}: KVM here cannot boot Linux: {verdict.reason}")
    if name == "qemu-kvm":
        from ktstr.host.engines.qemu import QemuEngine

        return QemuEngine("kvm")
    if not VMM_LIBRARY.is_file():
        pytest.skip(f"engine vmm: {VMM_LIBRARY} is not in this test's runfiles")
    from ktstr.host.engines.vmm import VmmEngine

    return VmmEngine(VMM_LIBRARY.resolve())


def _runfile(env: str, suffix: str) -> Path | None:
    """The file ending in suffix among a target's files ($(rootpaths) in BUILD)."""
    for f in os.environ.get(env, "").split():
        if f.endswith(suffix):
            return Path(f)
    return None


def _vmm_nested() -> Engine:
    from ktstr.host.engines.vmm_nested import L1Host, VmmNestedEngine

    kernel = _runfile("KTSTR_L1_KERNEL_FILES", "/bzImage")
    initramfs = _runfile("KTSTR_L1_INITRAMFS_FILES", ".cpio")
    if kernel is None or initramfs is None:
        pytest.skip("engine vmm-nested: no L1 host in this test's runfiles (//kernels:l1_host, "
                    "//vmm:l1_initramfs: conformance_vmm_nested_test has them)")
    return VmmNestedEngine(L1Host(kernel.resolve(), initramfs.resolve()))
