"""Snapshot fan-out's host side without a VM (ktstr.host.snapshot): the run layer split,
the snapshot key, the refusal of a template whose boot was not clean, and the QEMU command
line of a clone. tests/engines/test_fanout.py boots the real thing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ktstr.host.console_scan import ConsoleScan
from ktstr.host.engines import BootResult, BootSpec, ExitKind
from ktstr.host.engines.qemu import QemuEngine
from ktstr.host.run_layer import LayerFile, write_run_layer
from ktstr.host.snapshot import Fanout, SnapshotError, _template_problem, snapshot_key, split_run_layer
from ktstr.topology import Topology
from ktstr.wire.results import Splat
from ktstr.wire.run_config import RunConfig


def test_split_takes_out_run_json_and_keeps_the_rest_byte_for_byte(tmp_path):
    files = [LayerFile("ktstr/tests/a.py", b"print(1)\n"), LayerFile("sched/bin", b"\x7fELF", 0o755)]
    config = RunConfig(suite="s", topology="1n1l2c1t", result_key="ee" * 32)
    with_config = write_run_layer(tmp_path / "a.cpio", config.to_json(), files).read_bytes()
    rest, got = split_run_layer(with_config)
    assert got is not None and RunConfig.parse(got, "run.json") == config
    assert b"ee" * 32 not in rest  # the key never reaches the template
    again, none = split_run_layer(rest)
    assert again == rest and none is None
    # The same files under another boot's run.json: the same rest, so the same snapshot.
    other = write_run_layer(tmp_path / "b.cpio", replace(config, result_key="11" * 32).to_json(), files)
    assert split_run_layer(other.read_bytes())[0] == rest


def test_split_refuses_what_is_not_a_newc_archive():
    with pytest.raises(SnapshotError, match="bad cpio magic at offset 0"):
        split_run_layer(b"x" * 200)


def _spec(tmp_path: Path, **kw) -> BootSpec:
    kernel = tmp_path / "bzImage"
    if not kernel.exists():
        kernel.write_bytes(b"kernel")
        (tmp_path / "base.cpio").write_bytes(b"base")
    values = dict(kernel=kernel, initrds=(tmp_path / "base.cpio",), cmdline="console=ttyS0",
                  topology=Topology.parse("1n1l2c1t"), memory_mib=512, timeout_s=10.0,
                  console_path=tmp_path / "c.log", result_path=tmp_path / "r.bin", work_dir=tmp_path / "w")
    values.update(kw)
    return BootSpec(**values)


def test_the_key_changes_with_every_input_that_shapes_the_vm(tmp_path):
    engine = QemuEngine("tcg", qemu="true")
    spec = _spec(tmp_path)
    base = snapshot_key(engine, spec, spec.initrds, b"rest")
    assert snapshot_key(engine, spec, spec.initrds, b"rest") == base
    changed = [
        snapshot_key(engine, spec, spec.initrds, b"other tests"),
        snapshot_key(engine, replace(spec, topology=Topology.parse("1n2l1c1t")), spec.initrds, b"rest"),
        snapshot_key(engine, replace(spec, memory_mib=1024), spec.initrds, b"rest"),
        snapshot_key(engine, replace(spec, cmdline="console=ttyS0 quiet"), spec.initrds, b"rest"),
        snapshot_key(QemuEngine("kvm", qemu="true"), spec, spec.initrds, b"rest"),
    ]
    spec.kernel.write_bytes(b"another kernel")
    changed.append(snapshot_key(engine, spec, spec.initrds, b"rest"))
    assert base not in changed and len(set(changed)) == len(changed)
    # Neither the console's nor the result stream's path is an input: clones share the key.
    assert snapshot_key(engine, replace(spec, console_path=tmp_path / "x", result_path=tmp_path / "y"),
                        spec.initrds, b"rest") == changed[-1]


def _result(kind=ExitKind.ENGINE_ERROR, scan=None):
    return BootResult(kind, 1.0, b"", b"", "accel=tcg", "qemu-tcg", "", scan)


def test_a_template_with_a_splat_is_refused(tmp_path):
    """The template's console is judged once, here: a splat while it booted would otherwise
    belong to no clone."""
    state = tmp_path / "state"
    state.write_bytes(b"s")
    assert _template_problem(_result(scan=ConsoleScan()), [1.0], state) == ""
    scan = ConsoleScan(splats=[(10, Splat("WARNING", "WARNING: CPU: 0 PID: 1 at x.c:1 f"))])
    assert "WARNING: CPU: 0 PID: 1 at x.c:1 f" in _template_problem(_result(scan=scan), [1.0], state)
    assert "no ready point" in _template_problem(_result(), [], state)
    assert _template_problem(_result(kind=ExitKind.STOPPED), [1.0], state)


def test_fanout_needs_an_engine_that_snapshots(tmp_path):
    class NoSnapshots:
        name = "vmm"

    with pytest.raises(SnapshotError, match="fan-out needs qemu"):
        Fanout(NoSnapshots(), tmp_path)  # type: ignore[arg-type]


def test_a_boot_without_run_json_boots_as_usual(tmp_path):
    """A Command's layer (the selftests runner) has no run.json: nothing to deliver."""
    layer = tmp_path / "command-layer.cpio"
    write_run_layer(layer, {}, [])
    rest, _ = split_run_layer(layer.read_bytes())
    layer.write_bytes(rest)
    booted = []

    class Plain(QemuEngine):
        def run(self, spec, launch=None):
            booted.append((spec, launch))
            return _result()

    fan = Fanout(Plain("tcg", qemu="true"), tmp_path / "snap")
    spec = _spec(tmp_path, initrds=(tmp_path / "base.cpio", layer))
    fan.run(spec)
    assert booted == [(spec, None)] and fan.restores == 0 and not fan.snapshots


def test_a_clone_maps_the_template_ram_privately(tmp_path):
    args = QemuEngine("tcg").command(_spec(tmp_path), tmp_path / "i", [7], share=False)
    assert "memory-backend-file,id=mem0,size=512M,mem-path=/proc/self/fd/7,share=off" in args
    args = QemuEngine("tcg").command(_spec(tmp_path), tmp_path / "i", [7])
    assert "memory-backend-file,id=mem0,size=512M,mem-path=/proc/self/fd/7,share=on" in args
