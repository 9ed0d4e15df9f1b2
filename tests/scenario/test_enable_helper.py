"""The agent's pinning of sched_ext's enable kthread (ktstr/guest/enable_helper.py): its BTF
scan agrees with the monitor's BTF reader on a real kernel's BTF, the kthread is found by
name, and every way it can fail is a named problem, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from ktstr.guest import enable_helper
from ktstr.monitor.btf import STRUCT, Btf

HOST_BTF = Path("/sys/kernel/btf/vmlinux")


@pytest.mark.skipif(not HOST_BTF.is_file(), reason="no /sys/kernel/btf/vmlinux on this host")
def test_the_one_pass_scan_agrees_with_the_btf_reader():
    blob = HOST_BTF.read_bytes()
    full = Btf(blob)
    names = ("task_struct", "rq") + (("sched_ext_ops",) if full.has(STRUCT, "sched_ext_ops") else ())
    found = enable_helper.struct_members(blob, names)
    assert set(found) == set(names)
    for name in names:
        t = full.find(STRUCT, name)
        type_id, size, members = found[name]
        assert (type_id, size) == (t.id, t.size_or_type)
        assert members == {m.name: m.bit_offset // 8 for m in t.members if m.name}


def _proc(root, comms):
    root.mkdir()
    for pid, comm in comms.items():
        (root / str(pid)).mkdir()
        (root / str(pid) / "comm").write_text(comm + "\n")
    (root / "self").mkdir()
    return str(root)


def test_the_kthread_is_found_by_its_name(tmp_path):
    assert enable_helper.find_helper(_proc(tmp_path / "a", {1: "init", 57: "scx_ops_enable_helper"})) == 57
    assert enable_helper.find_helper(_proc(tmp_path / "b", {1: "init", 60: "kworker/0:1"})) is None


def test_pinning_pins_an_existing_kthread(monkeypatch):
    pinned = []
    monkeypatch.setattr(enable_helper, "find_helper", lambda proc="/proc": 57)
    monkeypatch.setattr(enable_helper, "create_helper", lambda: pytest.fail("created although it exists"))
    monkeypatch.setattr(enable_helper.os, "sched_setaffinity", lambda pid, cpus: pinned.append((pid, cpus)))
    assert enable_helper.pin_init_cpu(0) is None and pinned == [(57, {0})]


def test_every_failure_is_a_named_problem(monkeypatch):
    monkeypatch.setattr(enable_helper, "find_helper", lambda proc="/proc": None)
    monkeypatch.setattr(enable_helper, "create_helper", lambda: None)  # enabled, yet no kthread
    assert "no scx_ops_enable_helper kthread after an enable" in enable_helper.pin_init_cpu(2)

    def refused():
        raise enable_helper.InitCpuError("bpf(cmd 0) failed: Operation not permitted")
    monkeypatch.setattr(enable_helper, "create_helper", refused)
    assert enable_helper.pin_init_cpu(2) == ("init_cpu=2: cannot pin sched_ext's scx_ops_enable_helper kthread: "
                                             "bpf(cmd 0) failed: Operation not permitted")


def test_a_kernel_without_sched_ext_is_named(tmp_path):
    btf = tmp_path / "btf"  # a valid, empty BTF: header only
    btf.write_bytes(b"\x9f\xeb\x01\x00" + (24).to_bytes(4, "little") + bytes(16))
    with pytest.raises(enable_helper.InitCpuError, match="no sched_ext struct_ops type"):
        enable_helper.create_helper(str(btf))
    with pytest.raises(enable_helper.InitCpuError, match="cannot read the kernel's BTF"):
        enable_helper.create_helper(str(tmp_path / "missing"))
