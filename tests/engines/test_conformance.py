"""Every engine boots the same busybox guests the same way: Linux sees the topology asked
for (per preset and shape) and the guest powers off, a panic is a crash with the kernel's
line, a hang is killed at the timeout, and COM2 carries the guest's bytes unchanged (a
corrupt frame reaches the reader and is reported). One suite, parametrised over every
engine (conftest.py); an engine this host cannot run skips with the reason."""

from __future__ import annotations

import re

import pytest

from ktstr.host.engines import BootSpec, ExitKind
from ktstr.host.runner import BASE_CMDLINE
from ktstr.topology import Topology
from ktstr.wire.messages import decode


def boot(engine, tmp_path, kernel, initrd, topo="1n1l2c1t", timeout=None, memory=256):
    if timeout is None:  # under nested KVM L2 boots in 10-40 s (one emulated L1 vCPU)
        timeout = 240.0 if engine.name == "vmm-nested" else 60.0
    topology = Topology.parse(topo)
    spec = BootSpec(kernel=kernel, initrds=(initrd,), cmdline=BASE_CMDLINE, topology=topology,
                    memory_mib=memory * topology.numa_nodes, timeout_s=timeout,
                    console_path=tmp_path / "console.log", result_path=tmp_path / "result.bin",
                    work_dir=tmp_path / "work")
    return engine.run(spec)


@pytest.mark.parametrize("topo, groups, nodes", [
    ("tiny-1llc", ["0-3"], 1),
    ("tiny-2llc", ["0-1", "2-3"], 1),
    ("1n2l1c2t", ["0-1", "2-3"], 1),
    ("2n2l2c1t", ["0-1", "2-3"], 2),
])
def test_linux_sees_the_topology_and_powers_off(engine, tmp_path, kernel, guests, topo, groups, nodes):
    result = boot(engine, tmp_path, kernel, guests["topo"], topo)
    console = result.console_tail.decode(errors="replace")
    assert result.exit_kind == ExitKind.POWEROFF, result.detail
    assert result.engine == engine.name
    assert f"NCPU {Topology.parse(topo).cpus}" in console
    assert sorted(set(re.findall(r"cpu\d+ llc=(\S+)", console))) == groups
    assert len(re.findall(r"^node\d+\s*$", console, re.M)) == nodes


def test_init_exit_is_a_crash_with_the_panic_line(engine, tmp_path, kernel, guests):
    result = boot(engine, tmp_path, kernel, guests["panic"])
    assert result.exit_kind == ExitKind.CRASH, result.detail
    assert "Attempted to kill init" in result.exit_reason


def test_hang_is_killed_at_the_timeout(engine, tmp_path, kernel, guests):
    # vmm-nested: L2 reaches /init 10-40 s after its start, and the wall time adds L1's boot.
    timeout, slack = (90.0, 60.0) if engine.name == "vmm-nested" else (6.0, 3.0)
    result = boot(engine, tmp_path, kernel, guests["hang"], timeout=timeout)
    assert result.exit_kind == ExitKind.TIMEOUT, result.detail
    assert result.exit_reason == f"killed after timeout of {timeout:g} s"
    assert timeout <= result.wall_s < timeout + slack
    assert b"hanging on purpose" in result.console_tail


def test_corrupt_frame_reaches_the_reader(engine, tmp_path, kernel, guests):
    result = boot(engine, tmp_path, kernel, guests["corrupt"])
    assert result.exit_kind == ExitKind.POWEROFF, result.detail
    guest = decode(result.result_stream)
    assert guest.stream_errors[0] == "10 byte(s) of garbage at offset 0 before a frame"
    assert guest.stream_errors[1].startswith("bad CRC in frame at offset 10: type 4")
