"""The C VMM on a real KVM: nested SVM under QEMU TCG (the nested test bed).

L0 = QEMU TCG -cpu max (emulated AMD SVM with nested paging), L1 = //kernels:l1_host (KVM
built in) with //vmm:l1_initramfs, L2 = the project's kernel (//kernels:default) with a busybox
initramfs, booted by ktstr-vmm inside L1 (the vmm-nested engine). L2 must see its topology
(two nodes, two LLCs, SMT) in its own sysfs, keep time with kvm-clock, and power off through
ACPI S5. The same L2 under QEMU+KVM inside the same L1 is the reference: it must reach the
same verdicts. (//vmm:linux_boot_test runs its whole-boot cases, a hang among them, through
the same engine where this host's KVM cannot run Linux.)
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ktstr.host.engines import BootResult, BootSpec, ExitKind
from ktstr.host.engines.qemu import topology_args
from ktstr.host.engines.vmm_nested import L1Host, VmmNestedEngine
from ktstr.host.runner import BASE_CMDLINE
from ktstr.initramfs.closure import closure
from ktstr.initramfs.cpio import Archive
from ktstr.topology import Topology

BUSYBOX_INITRAMFS = Path("tests/host/busybox_initramfs.py")
# loglevel 7: the clock source lines are KERN_INFO (loglevel=N prints levels below N)
CMDLINE = BASE_CMDLINE.replace("loglevel=5", "loglevel=7")
# Two nodes, two LLCs, SMT: 2 nodes x 1 LLC each x 1 core x 2 threads = 4 vCPUs.
TOPOLOGY = "2n2l1c2t"
# The firmware a -kernel boot reads, where Debian's QEMU looks for it.
QEMU_FIRMWARE = ("/usr/share/seabios/bios-256k.bin", "/usr/share/qemu/linuxboot_dma.bin",
                 "/usr/share/qemu/kvmvapic.bin")


def _runfile(env: str, suffix: str) -> Path | None:
    """The file ending in suffix among a target's files ($(rootpaths) in BUILD)."""
    for f in os.environ.get(env, "").split():
        if f.endswith(suffix):
            return Path(f)
    return None


L1_KERNEL = _runfile("KTSTR_L1_KERNEL_FILES", "/bzImage")
L2_KERNEL = _runfile("KTSTR_DEFAULT_KERNEL_FILES", "/bzImage")
L1_INITRAMFS = _runfile("KTSTR_L1_INITRAMFS_FILES", ".cpio")
pytestmark = [
    pytest.mark.skipif(L1_KERNEL is None or L2_KERNEL is None or L1_INITRAMFS is None,
                       reason="no kernels: run under Bazel (//vmm:nested_kvm_test)"),
    pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None,
                       reason="qemu-system-x86_64 is not installed (tools/debian-packages.txt)"),
]


@pytest.fixture(scope="module")
def engine() -> VmmNestedEngine:
    return VmmNestedEngine(L1Host(L1_KERNEL, L1_INITRAMFS))


@pytest.fixture(scope="module")
def busybox(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("busybox")
    paths = {}
    for mode in ("topo",):
        paths[mode] = out / f"{mode}.cpio"
        subprocess.run([sys.executable, str(BUSYBOX_INITRAMFS), mode, "/bin/busybox", str(paths[mode])],
                       check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return paths


def spec(tmp_path: Path, initrd: Path, topo: str = TOPOLOGY, timeout_s: float = 120.0) -> BootSpec:
    return BootSpec(L2_KERNEL, (initrd,), CMDLINE, Topology.parse(topo), 256 * Topology.parse(topo).numa_nodes,
                    timeout_s, tmp_path / "console.log", tmp_path / "result.bin", tmp_path / "work")


def show(result: BootResult) -> str:
    return f"{result.exit_kind}: {result.detail}\n--- L2 console:\n{result.console_tail_text(60)}"


def check_topology_and_clock(result: BootResult) -> None:
    console = result.console_tail.decode(errors="replace")
    assert result.exit_kind == ExitKind.POWEROFF, show(result)
    assert "NCPU 4" in console, show(result)
    assert len(re.findall(r"^node\d+\s*$", console, re.M)) == 2, show(result)
    assert "clocksource: Switched to clocksource kvm-clock" in console, show(result)
    # The failure this bed was built to catch: no TSC frequency, no clock (the original hang).
    for broken in ("could not calculate TSC khz", "Unable to calibrate against PIT", "No reference (HPET/PMTIMER)"):
        assert broken not in console, show(result)
    assert re.search(r"tsc: Detected \d+\.\d+ MHz processor", console), show(result)
    # "TSCs unsynchronized" is allowed, and only it: Linux's unsynchronized_tsc() says so for any
    # multi-CPU AMD guest without an invariant TSC (CPUID 0x80000007 EDX[8]), which L0 (QEMU TCG
    # -cpu max) does not offer L1, so KVM in L1 cannot offer it to L2. The QEMU+KVM reference in
    # the same L1 prints the same line; time stays on kvm-clock (asserted above).
    reasons = set(re.findall(r"Marking TSC unstable due to (.+?)\r?$", console, re.M))
    assert reasons <= {"TSCs unsynchronized"}, show(result)


def llc_groups(result: BootResult) -> list[str]:
    return sorted(set(re.findall(r"cpu\d+ llc=(\S+)", result.console_tail.decode(errors="replace"))))


def test_vmm_in_l1_boots_l2_with_its_topology_clock_and_power_off(tmp_path, engine, busybox):
    result = engine.run(spec(tmp_path, busybox["topo"]))
    check_topology_and_clock(result)
    # the LLCs as L2's own sysfs (cache/index3/shared_cpu_list) says them
    assert llc_groups(result) == ["0-1", "2-3"], show(result)
    print(f"vmm-nested boot: {result.wall_s:.1f} s wall")


def qemu_layer(out: Path) -> Path:
    """qemu-system-x86_64 with its shared-library closure and the firmware a -kernel boot
    reads, at their host paths, as one more L1 layer."""
    qemu = os.path.realpath(shutil.which("qemu-system-x86_64"))
    archive = Archive()
    archive.add_host_path(qemu)
    for lib in closure([qemu]):
        archive.add_host_path(lib)
    for path in QEMU_FIRMWARE:
        archive.add_host_path(path)
    archive.write(out)
    return out


def test_qemu_kvm_in_l1_reference_reaches_the_same_verdicts(tmp_path, engine, busybox):
    s = spec(tmp_path, busybox["topo"])
    qemu = os.path.realpath(shutil.which("qemu-system-x86_64"))
    cmd = [qemu, "-M", "pc,accel=kvm", "-cpu", "host,l3-cache=on",
           *topology_args(s.topology, s.memory_mib),
           "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none", "-monitor", "none",
           "-net", "none",
           "-chardev", "file,id=com1,path=/dev/ttyS0", "-serial", "chardev:com1",
           "-chardev", "file,id=com2,path=/dev/ttyS1", "-serial", "chardev:com2",
           "-no-reboot", "-kernel", "/l2/bzImage", "-initrd", "/l2/initrd.cpio"]
    script = ("#!/bin/sh\n" + shlex.join(cmd) + ' -append "$(cat /l2/cmdline)"\n'
              "echo qemu-l1-status=$?\n")
    s.work_dir.mkdir(parents=True)
    layer = qemu_layer(s.work_dir / "qemu.cpio")
    result = engine.run(s, run_script=script, extra_layers=(layer,),
                        l1_extra_mib=2 * (layer.stat().st_size >> 20))
    l1_log = (s.work_dir / "l1.log").read_text(errors="replace")
    # no ktstr-vmm report here: QEMU's exit status and L2's console decide
    assert "qemu-l1-status=0" in l1_log, l1_log[-3000:]
    console = result.console_tail.decode(errors="replace")
    assert "reboot: Power down" in console, show(result)
    assert "NCPU 4" in console and len(re.findall(r"^node\d+\s*$", console, re.M)) == 2, show(result)
    assert "clocksource: Switched to clocksource kvm-clock" in console, show(result)
    print(f"QEMU+KVM in L1: {result.wall_s:.1f} s wall; LLCs {llc_groups(result)}")
