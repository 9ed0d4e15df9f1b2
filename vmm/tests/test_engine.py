"""The VMM as a ktstr engine: BootSpec in, BootResult out, through the cffi binding.

The fake bzImage reports what it was handed (command line, initrd) on COM1, which the
engine must deliver as the console; the layers must arrive as one initrd.
"""

import os
from pathlib import Path

import pytest

from ktstr.host.engines import BootSpec, ExitKind
from ktstr.host.engines.vmm import VmmEngine
from ktstr.topology import Topology

LIBRARY = Path("vmm/libktstr_vmm.so")
FAKE_KERNEL = Path("vmm/tests/guests/fake_bzimage.bin")

pytestmark = pytest.mark.skipif(not os.access("/dev/kvm", os.R_OK | os.W_OK),
                                reason="no read/write access to /dev/kvm on this host")


def spec(tmp_path, kernel, initrds, cmdline="console=ttyS0 ktstr.engine=vmm", **kw) -> BootSpec:
    return BootSpec(kernel=kernel, initrds=tuple(initrds), cmdline=cmdline,
                    topology=Topology.parse("1n1l2c1t"), memory_mib=128, timeout_s=kw.get("timeout_s", 20),
                    console_path=tmp_path / "out" / "console.log", result_path=tmp_path / "out" / "com2.bin",
                    work_dir=tmp_path / "work", on_console=kw.get("on_console"))


def test_boots_the_kernel_with_cmdline_and_joined_initrd_layers(tmp_path):
    base, layer = tmp_path / "base.cpio", tmp_path / "layer.cpio"
    base.write_bytes(b"BASELAYR" + b"\0" * 1021)  # 1029 bytes: the join pads to 4
    layer.write_bytes(b"TESTLAYR" + b"\0" * 100)
    streamed = []
    result = VmmEngine(LIBRARY).run(spec(tmp_path, FAKE_KERNEL, [base, layer], on_console=streamed.append))
    console = result.console_tail.decode()
    assert "cmdline=console=ttyS0 ktstr.engine=vmm\n" in console
    assert "initrd_head=BASELAYR" in console
    assert f"initrd_size={1032 + 108:x}\n" in console
    assert b"".join(streamed) == result.console_tail  # the follower saw the same bytes
    assert (tmp_path / "out" / "console.log").read_bytes() == result.console_tail
    assert result.engine == "vmm" and result.result_stream == b""
    assert "setup" in result.detail


def test_missing_kernel_is_an_engine_error_naming_it(tmp_path):
    result = VmmEngine(LIBRARY).run(spec(tmp_path, tmp_path / "nope" / "bzImage", []))
    assert result.exit_kind == ExitKind.ENGINE_ERROR and "nope/bzImage" in result.exit_reason


def test_vm_setup_failure_is_an_engine_error_with_the_vmm_words(tmp_path):
    initrd = tmp_path / "i.cpio"
    initrd.write_bytes(b"x" * 64)
    result = VmmEngine(LIBRARY).run(spec(tmp_path, Path("vmm/tests/guests/exit_status.bin"), [initrd]))
    assert result.exit_kind == ExitKind.ENGINE_ERROR and "not a bzImage" in result.exit_reason


def test_auto_runs_the_boot_again_under_qemu_when_the_vmm_cannot_build_the_vm(tmp_path):
    from ktstr.host.engines.fallback import FallbackEngine
    from ktstr.host.engines.qemu import QemuEngine

    initrd = tmp_path / "i.cpio"
    initrd.write_bytes(b"x" * 64)
    boot = spec(tmp_path, Path("vmm/tests/guests/exit_status.bin"), [initrd], timeout_s=30)
    result = FallbackEngine(VmmEngine(LIBRARY), QemuEngine(accel="tcg")).run(boot)
    assert result.engine == "qemu-tcg"  # QEMU's own verdict on this non-kernel
    assert result.detail.startswith("the vmm engine did not bring the guest up (the VMM could not build the VM")
    assert "not a bzImage" in result.detail and "console.vmm-failed.log" in result.detail
    assert (tmp_path / "out" / "console.vmm-failed.log").exists()


def test_auto_keeps_the_vmm_result_when_the_guest_ran(tmp_path):
    from ktstr.host.engines.fallback import FallbackEngine
    from ktstr.host.engines.qemu import QemuEngine

    base = tmp_path / "base.cpio"
    base.write_bytes(b"BASELAYR" + b"\0" * 56)
    result = FallbackEngine(VmmEngine(LIBRARY), QemuEngine(accel="tcg")).run(spec(tmp_path, FAKE_KERNEL, [base]))
    assert result.engine == "vmm" and "initrd_head=BASELAYR" in result.console_tail.decode()
    assert not (tmp_path / "out" / "console.vmm-failed.log").exists()
