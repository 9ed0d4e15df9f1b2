from pathlib import Path

import pytest

from ktstr.host.engines import (ENGINE_ENV, ENGINE_NAMES, ENGINE_SPECS, EngineOptions, EngineSelectionError, ExitKind,
                                requested_engine, select_engine)
from ktstr.host.engines import kvm
from ktstr.host.engines.classify import classify_exit
from ktstr.host.engines.boot_io import concatenate_initrds
from ktstr.host.engines.qemu import QemuEngine, topology_args
from ktstr.topology import Topology


def _smp(args):
    return args[args.index("-smp") + 1]


@pytest.mark.parametrize("topo, smp", [
    ("1n1l2c1t", "cpus=2,sockets=1,dies=1,cores=2,threads=1"),
    ("1n2l2c2t", "cpus=8,sockets=1,dies=2,cores=2,threads=2"),
    ("2n4l3c1t", "cpus=12,sockets=2,dies=2,cores=3,threads=1"),
])
def test_smp_maps_llcs_to_dies(topo, smp):
    assert _smp(topology_args(Topology.parse(topo), 1024)) == smp


def test_numa_nodes_split_memory_and_cpus():
    args = topology_args(Topology.parse("2n2l2c1t"), 1025)
    numa = [args[i + 1] for i, a in enumerate(args) if a == "-numa"]
    mem = [args[i + 1] for i, a in enumerate(args) if a == "-object"]
    assert numa == ["node,nodeid=0,cpus=0-1,memdev=mem0", "node,nodeid=1,cpus=2-3,memdev=mem1"]
    assert mem == ["memory-backend-ram,id=mem0,size=512M", "memory-backend-ram,id=mem1,size=513M"]


def test_single_node_has_no_numa_args():
    assert "-numa" not in topology_args(Topology.parse("1n2l2c1t"), 512)


def test_bad_topologies_are_named():
    with pytest.raises(ValueError, match="divisible"):
        topology_args(Topology(2, 3, 1, 1), 1024)
    with pytest.raises(ValueError, match="memory_mib"):
        topology_args(Topology(2, 2, 1, 1), 100)
    with pytest.raises(ValueError, match="expected"):
        Topology.parse("2x2")


def test_command_has_two_serial_ports_and_no_reboot(tmp_path):
    from ktstr.host.engines import BootSpec

    spec = BootSpec(tmp_path / "bz", (tmp_path / "i",), "console=ttyS0", Topology.parse("1n1l2c1t"),
                    512, 10, tmp_path / "c.log", tmp_path / "r.bin", tmp_path)
    cmd = QemuEngine("tcg", qemu="qemu-system-x86_64").command(spec, tmp_path / "i")
    joined = " ".join(cmd)
    assert "-M pc,accel=tcg" in joined
    assert cmd.count("-serial") == 2
    assert f"file,id=com1,path={tmp_path / 'c.log'}" in cmd
    assert f"file,id=com2,path={tmp_path / 'r.bin'}" in cmd
    assert "-no-reboot" in cmd and "-nodefaults" in cmd
    assert "vendor=GenuineIntel" in cmd[cmd.index("-cpu") + 1]
    kvm_cmd = QemuEngine("kvm", qemu="q").command(spec, tmp_path / "i")
    assert "pc,accel=kvm" in kvm_cmd and kvm_cmd[kvm_cmd.index("-cpu") + 1].startswith("host")


def test_initrd_layers_are_concatenated_aligned(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"12345")
    b.write_bytes(b"xyz")
    out = concatenate_initrds((a, b), tmp_path / "out")
    assert out.read_bytes() == b"12345\0\0\0xyz\0"
    assert concatenate_initrds((a,), tmp_path / "o2") == a
    with pytest.raises(ValueError, match="initramfs"):
        concatenate_initrds((), tmp_path / "o3")


def _fake_sys(tmp_path, modules):
    for m in modules:
        (tmp_path / "sys" / "module" / m).mkdir(parents=True)
    dev = tmp_path / "kvm"
    dev.write_text("")
    return tmp_path / "sys", dev


def test_kvm_pvm_cannot_boot_linux(tmp_path):
    sys_root, dev = _fake_sys(tmp_path, ["kvm", "kvm_pvm"])
    verdict = kvm.probe(sys_root, dev)
    assert not verdict.can_boot_linux
    assert "kvm-pvm" in verdict.reason


def test_kvm_intel_can_boot_linux(tmp_path):
    sys_root, dev = _fake_sys(tmp_path, ["kvm", "kvm_intel"])
    assert kvm.probe(sys_root, dev).can_boot_linux


def test_missing_dev_kvm(tmp_path):
    sys_root, _ = _fake_sys(tmp_path, ["kvm_amd"])
    verdict = kvm.probe(sys_root, tmp_path / "nope")
    assert not verdict.can_boot_linux and "does not exist" in verdict.reason


def test_engine_names_and_env(monkeypatch):
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert requested_engine() == "auto"
    monkeypatch.setenv(ENGINE_ENV, "qemu-tcg")
    assert requested_engine() == "qemu-tcg"
    assert requested_engine("qemu-kvm") == "qemu-kvm"
    monkeypatch.setenv(ENGINE_ENV, "bochs")
    with pytest.raises(EngineSelectionError, match="KTSTR_ENGINE"):
        requested_engine()


def test_auto_follows_the_kvm_probe(monkeypatch):
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    monkeypatch.setattr(kvm, "probe", lambda: kvm.KvmVerdict(False, "kvm-pvm here"))
    engine = select_engine("auto")
    assert engine.name == "qemu-tcg" and engine.fallback_reason == "kvm-pvm here"
    assert engine.emulated  # TCG: the guest's timing checks use their looser limits
    with pytest.raises(EngineSelectionError, match="kvm-pvm here"):
        select_engine("qemu-kvm")
    monkeypatch.setattr(kvm, "probe", lambda: kvm.KvmVerdict(True, "ok"))
    assert select_engine("qemu").name == "qemu-kvm" and not select_engine("qemu").emulated
    # no VMM library: QEMU with KVM
    assert select_engine("auto", vmm_library=Path("/nonexistent/libktstr_vmm.so")).name == "qemu-kvm"
    with pytest.raises(EngineSelectionError, match="/nonexistent/libktstr_vmm.so"):
        select_engine("vmm", vmm_library=Path("/nonexistent/libktstr_vmm.so"))


def test_auto_prefers_the_vmm_where_kvm_can_boot_linux(monkeypatch):
    lib = Path("vmm/libktstr_vmm.so")
    if not lib.is_file():
        pytest.skip("vmm/libktstr_vmm.so is not in this test's runfiles")
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    monkeypatch.setattr(kvm, "probe", lambda: kvm.KvmVerdict(True, "ok"))
    auto = select_engine("auto", vmm_library=lib.resolve())
    assert auto.name == "vmm" and not auto.emulated
    assert select_engine("vmm", vmm_library=lib.resolve()).name == "vmm"


def test_exit_classification():
    assert classify_exit(b"x\nreboot: Power down\n")[0] == ExitKind.POWEROFF
    assert classify_exit(b"reboot: Restarting system\n")[0] == ExitKind.REBOOT
    kind, why = classify_exit(b"Kernel panic - not syncing: VFS: Unable to mount root\nreboot: Restarting system")
    assert kind == ExitKind.CRASH and "Unable to mount root" in why
    assert classify_exit(b"")[0] == ExitKind.CRASH


def test_the_shell_engine_comes_from_the_engine_spec(monkeypatch):
    # runner.shell asks EngineOptions.interactive(): no name or type checks of its own.
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    monkeypatch.setattr(kvm, "probe", lambda: kvm.KvmVerdict(False, "kvm-pvm here"))
    assert EngineOptions("qemu-tcg").interactive().name == "qemu-tcg"
    assert EngineOptions().interactive().name == "qemu-tcg"  # auto: QEMU, TCG where KVM cannot boot Linux
    for name in ("vmm", "vmm-nested"):  # vmm-nested was an AssertionError traceback
        with pytest.raises(EngineSelectionError, match=f"engine '{name}' cannot run an interactive shell.*"
                                                       f"use --engine auto, qemu, qemu-kvm, qemu-tcg"):
            EngineOptions(name).interactive()
    assert ENGINE_NAMES == tuple(ENGINE_SPECS) and ENGINE_SPECS["vmm"].needs_kvm
