"""The vmm-nested engine's own parts, without booting: the per-run L1 layer, the ktstr-vmm
command in it, the exit report read back from L1's log, and how a run is classified.
(Whole boots: //vmm:nested_kvm_test.)"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ktstr.host.engines import BootSpec, EngineSelectionError, ExitKind, select_engine
from ktstr.host.engines.boot_io import concatenate_initrds
from ktstr.host.engines.vmm_nested import (
    L1_INITRAMFS_ENV,
    L1_KERNEL_ENV,
    L1Host,
    VmmNestedEngine,
    l1_run_script,
    run_layer,
)
from ktstr.initramfs.cpio import read_entries
from ktstr.topology import Topology
from ktstr.wire.vmm_report import VmExit, VmmExitReport

REPORT = """ktstr-l1: up 1.93 s
exit=shutdown
status=0
vcpus=4
setup_us=464826
stat.exits=62244
message=guest powered off (ACPI S5)
ktstr-l1: rc=0 at 21.90 s
"""


def spec(tmp_path: Path, topo: str = "2n2l1c2t", timeout_s: float = 30.0) -> BootSpec:
    kernel = tmp_path / "bzImage"
    kernel.write_bytes(b"kernel bytes")
    layers = []
    for i, body in enumerate((b"base layer", b"test layer")):
        layers.append(tmp_path / f"layer{i}.cpio")
        layers[-1].write_bytes(body)
    return BootSpec(kernel, tuple(layers), "console=ttyS0 ktstr.x=\"a b\"", Topology.parse(topo), 512,
                    timeout_s, tmp_path / "console.log", tmp_path / "result.bin", tmp_path / "work")


def test_report_is_read_back_from_the_l1_log():
    r = VmmExitReport.from_text(REPORT)
    assert r.kind == VmExit.SHUTDOWN and r.message == "guest powered off (ACPI S5)"
    assert (r.vcpus, r.setup_ns, r.stats) == (4, 464826000, {"exits": 62244})
    assert VmmExitReport.from_text("ktstr-l1: no /dev/kvm\n") == VmmExitReport(None)


def test_the_run_script_boots_l2_with_the_topology_and_carries_com1_com2_out(tmp_path):
    script = l1_run_script(spec(tmp_path, timeout_s=12.5))
    assert script.startswith("#!/bin/sh\n")
    assert "--topology 2n2l1c2t --memory-mib 512 --timeout-ms 12500" in script
    assert "--com2 /dev/ttyS1 > /dev/ttyS0" in script
    assert '--cmdline "$(cat /l2/cmdline)"' in script  # the command line is never re-quoted


def test_the_run_layer_holds_l2_and_the_script(tmp_path):
    s = spec(tmp_path)
    s.work_dir.mkdir()
    joined = concatenate_initrds(s.initrds, s.work_dir / "joined.cpio")
    out = run_layer(s, joined, "#!/bin/sh\necho hi\n", tmp_path / "run.cpio")
    entries = {name: (mode, data) for name, mode, data, _ in read_entries(out.read_bytes())}
    assert entries["l2/bzImage"][1] == b"kernel bytes"
    # the layers joined in order, each padded to 4 bytes as the kernel expects
    assert entries["l2/initrd.cpio"][1] == b"base layer\0\0test layer\0\0"
    assert entries["l2/cmdline"][1] == s.cmdline.encode()
    mode, data = entries["l1/run"]
    assert data == b"#!/bin/sh\necho hi\n" and stat.S_IMODE(mode) == 0o755


@pytest.mark.parametrize("killed, status, report, console, kind", [
    (True, -9, VmmExitReport(None), b"", ExitKind.TIMEOUT),
    (False, 0, VmmExitReport(VmExit.TIMEOUT, message="timeout: the guest did not finish in time"), b"",
     ExitKind.TIMEOUT),
    (False, 0, VmmExitReport(VmExit.SHUTDOWN, message="guest powered off (ACPI S5)"), b"reboot: Power down\n",
     ExitKind.POWEROFF),
    (False, 0, VmmExitReport(VmExit.INTERNAL_ERROR, message="vCPU 0: KVM internal error"), b"", ExitKind.CRASH),
    (False, 0, VmmExitReport(VmExit.SETUP_ERROR, message="open /dev/kvm"), b"", ExitKind.ENGINE_ERROR),
    (False, 1, VmmExitReport(VmExit.SHUTDOWN, message=""), b"", ExitKind.ENGINE_ERROR),
    (False, 0, VmmExitReport(None), b"", ExitKind.ENGINE_ERROR),
])
def test_classification(killed, status, report, console, kind):
    got, why = VmmNestedEngine.classify(killed, status, report, console, "ktstr-l1: no /dev/kvm\n", 30)
    assert got == kind and why
    if kind == ExitKind.ENGINE_ERROR and report.kind is None and status == 0:
        assert "no /dev/kvm" in why  # L1's own words reach the result


def test_missing_l1_inputs_are_named_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv(L1_KERNEL_ENV, raising=False)
    monkeypatch.delenv(L1_INITRAMFS_ENV, raising=False)
    with pytest.raises(EngineSelectionError,
                       match=r"L1 kernel \(not given\).*//kernels:l1_host.*--//rules:engine=vmm-nested"):
        select_engine("vmm-nested")
    kernel = tmp_path / "bzImage"
    kernel.write_bytes(b"x")
    monkeypatch.setenv(L1_KERNEL_ENV, str(kernel))
    monkeypatch.setenv(L1_INITRAMFS_ENV, str(tmp_path / "absent.cpio"))
    with pytest.raises(EngineSelectionError, match=r"L1 initramfs .*absent.cpio missing.*//vmm:l1_initramfs"):
        select_engine("vmm-nested")


def test_l0_runs_one_tcg_vcpu_with_svm_and_three_uarts(tmp_path):
    kernel, initramfs = tmp_path / "l1", tmp_path / "l1.cpio"
    kernel.write_bytes(b"x")
    initramfs.write_bytes(b"x")
    engine = VmmNestedEngine(L1Host(kernel, initramfs))
    assert engine.emulated
    s = spec(tmp_path)
    cmd = engine.command(s, tmp_path / "joined.cpio", 1024)
    assert cmd[cmd.index("-cpu") + 1] == "max,-xsave" and cmd[cmd.index("-smp") + 1] == "1"
    assert "pc,accel=tcg" in cmd and cmd[cmd.index("-kernel") + 1] == str(kernel)
    serial = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-chardev"]
    assert serial == [f"file,id=com1,path={s.console_path}", f"file,id=com2,path={s.result_path}",
                      f"file,id=com3,path={s.work_dir / 'l1.log'}"]
