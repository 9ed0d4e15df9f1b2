"""Kernel layout (ELF symbols + BTF offsets) and the guest-memory reader, on a fake vmlinux
built by gcc + pahole and synthetic guest RAM (real memfds where the engines use them)."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from ktstr.monitor.btf import Btf, BtfError
from ktstr.monitor.layout import KernelLayout, LayoutError, build_layout, parse_config
from ktstr.host.engines.pc_ram import pc_ram_split
from ktstr.monitor.memory import FOUR_GIB, GuestMemory, KernelMemory, LayoutMismatch, MemoryReadError
from tests.monitor.synthetic import SyntheticGuest, fake_layout


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> KernelLayout:
    return fake_layout(tmp_path_factory.mktemp("fake"))


def test_layout_offsets_match_the_compiler(layout):
    # fake_kernel.c's _Static_asserts pin these: BTF (from pahole) must agree with gcc.
    assert layout.off("rq.nr_running") == 4
    assert layout.off("rq.clock") == 8  # through an anonymous union
    assert layout.off("rq.scx.local_dsq.nr") == 56
    assert layout.off("rq.scx.nr_running") == 88
    assert layout.off("task_struct.scx.runnable_at") == 56
    assert layout.fields["task_struct.comm"] == {"offset": 8, "size": 16}
    assert layout.enable_states == {"ENABLING": 0, "ENABLED": 1, "DISABLING": 2, "DISABLED": 3}
    assert layout.release == "6.12.0-fake" and layout.hz == 1000 and not layout.kaslr


def test_layout_json_round_trip_and_schema_check(layout, tmp_path):
    path = tmp_path / "layout.json"
    import json
    path.write_text(json.dumps(layout.to_json()))
    assert KernelLayout.load(path) == layout
    path.write_text(json.dumps({**layout.to_json(), "schema": 99}))
    with pytest.raises(LayoutError, match="schema 99"):
        KernelLayout.load(path)


def test_layout_tool_names_what_is_missing(tmp_path):
    not_elf = tmp_path / "vmlinux"
    not_elf.write_bytes(b"not an elf")
    cfg = tmp_path / "config"
    cfg.write_text("CONFIG_HZ=250\nCONFIG_RANDOMIZE_BASE=y\n")
    assert parse_config(cfg.read_text()) == (250, True)
    with pytest.raises(LayoutError, match="cannot read .*vmlinux"):
        build_layout(not_elf, cfg)
    with pytest.raises(LayoutError, match="CONFIG_HZ"):
        parse_config("CONFIG_SMP=y\n")


def test_layout_tool_records_an_unreadable_kernel_instead_of_failing_its_build(tmp_path):
    from ktstr.monitor.layout import main
    vmlinux = tmp_path / "vmlinux"
    vmlinux.write_bytes(b"\x7fELF broken")
    cfg = tmp_path / "config"
    cfg.write_text("CONFIG_HZ=250\n")
    out = tmp_path / "layout.json"
    assert main(["--vmlinux", str(vmlinux), "--config", str(cfg), "--out", str(out)]) == 0
    with pytest.raises(LayoutError, match="the build could not read this kernel's layout: cannot read"):
        KernelLayout.load(out)


def test_btf_reader_on_the_host_kernel():
    # The running kernel's own BTF: a real, large input (struct rq exists in every kernel).
    path = Path("/sys/kernel/btf/vmlinux")
    if not path.exists():
        pytest.skip("this host kernel exposes no /sys/kernel/btf/vmlinux")
    btf = Btf(path.read_bytes())
    f = btf.field("task_struct", "comm")
    assert f.size == 16
    assert btf.field("rq", "nr_running").size == 4
    with pytest.raises(BtfError, match="no field 'no_such_field'"):
        btf.field("rq", "no_such_field")
    with pytest.raises(BtfError, match="not BTF"):
        Btf(b"\0" * 64)


def test_kernel_memory_translation_and_attach(layout):
    g = SyntheticGuest(layout)
    k = KernelMemory(GuestMemory.pc_layout([g.ram]), layout)
    k.attach()
    assert k.banner() == layout.banner
    assert k.nr_cpu_ids() == 2 and k.jiffies() == 1000
    offs = k.per_cpu_offsets(2)
    assert all(offs)
    assert k.u32(layout.symbol("runqueues") + offs[1] + layout.off("rq.nr_running")) == 0


def _guest_with(layout, symbol: str, data: bytes) -> tuple[SyntheticGuest, KernelMemory]:
    """A synthetic guest whose image holds `data` at `symbol`, and the KernelMemory reading it."""
    g = SyntheticGuest(layout)
    g.put_image(layout.symbols[symbol], data)
    return g, KernelMemory(GuestMemory.pc_layout([g.ram]), layout)


def test_banner_of_another_kernel_is_a_definitive_mismatch(layout):
    g, k = _guest_with(layout, "linux_banner", b"Linux version 6.6.6-other #1\n\0")
    with pytest.raises(LayoutMismatch, match="does not match the monitor's layout") as exc:
        k.attach()
    assert not exc.value.definitive  # once could be a banner being unpacked
    with pytest.raises(LayoutMismatch) as exc:
        k.attach()
    assert exc.value.definitive  # the same other banner twice: another kernel
    g.put_image(layout.symbols["linux_banner"], b"\0" * 64)  # still decompressing: not definitive
    with pytest.raises(LayoutMismatch) as exc:
        k.attach()
    assert not exc.value.definitive


def test_an_image_whose_data_is_not_unpacked_yet_attaches_later(layout):
    # The banner (.rodata) is there, phys_base (.data) still holds compressed bytes: not an
    # error that sticks; the next attempt, with .data unpacked, attaches.
    g, k = _guest_with(layout, "phys_base", b"k_po\x02\x0c\x70\x6f")
    with pytest.raises(LayoutMismatch, match="phys_base says") as exc:
        k.attach()
    assert not exc.value.definitive and k.phys_base == 0
    g.put_image(layout.symbols["phys_base"], struct.pack("<Q", 0))
    k.attach()
    assert k.nr_cpu_ids() == 2


def test_reads_outside_ram_and_untranslatable_addresses_are_errors(layout):
    g = SyntheticGuest(layout)
    k = KernelMemory(GuestMemory.pc_layout([g.ram]), layout)
    with pytest.raises(MemoryReadError, match="outside guest RAM"):
        k.mem.read_phys(len(g.ram) - 2, 8)
    with pytest.raises(MemoryReadError, match="neither in the kernel image nor in the direct map"):
        k.read(0xFFFFC90000000000, 8)  # vmalloc space


def test_memfd_pieces_and_the_pc_hole():
    # Two backends (NUMA nodes) summing past 3.5 GiB: QEMU's pc puts 3 GiB low, the rest at
    # 4 GiB. Sparse memfds: no RAM is used.
    assert pc_ram_split(1 << 30) == 1 << 30
    assert pc_ram_split(0xE0000000) == 0xC0000000
    fds = [os.memfd_create("t0"), os.memfd_create("t1")]
    try:
        os.ftruncate(fds[0], 2 << 30)
        os.ftruncate(fds[1], 2 << 30)
        os.pwrite(fds[1], b"HIGH", (0xC0000000 - (2 << 30)))  # linear offset 3 GiB: gpa 4 GiB
        os.pwrite(fds[1], b"SPAN", 0)  # linear 2 GiB: gpa 2 GiB (second node, below the hole)
        mem = GuestMemory.map_fds(fds)
        assert mem.read_phys(FOUR_GIB, 4) == b"HIGH"
        assert mem.read_phys(2 << 30, 4) == b"SPAN"
        with pytest.raises(MemoryReadError, match="outside guest RAM"):
            mem.read_phys(0xD0000000, 4)  # in the PCI hole
        mem.close()
        with pytest.raises(MemoryReadError, match="no longer mapped|outside"):
            mem.read_phys(0, 4)
    finally:
        for fd in fds:
            os.close(fd)


def test_a_relocated_image_is_found_and_checked_against_phys_base(layout):
    from tests.monitor.synthetic import IMAGE_PA, MIB
    g = SyntheticGuest(layout, ram_mib=32)
    delta = 4 * MIB
    image = bytes(g.ram[IMAGE_PA:IMAGE_PA + 2 * MIB])
    g.ram[IMAGE_PA:IMAGE_PA + 2 * MIB] = bytes(2 * MIB)
    g.ram[IMAGE_PA + delta:IMAGE_PA + delta + 2 * MIB] = image
    g.put(layout.symbols["phys_base"] - 0xFFFFFFFF80000000 + delta, struct.pack("<Q", delta))
    k = KernelMemory(GuestMemory.pc_layout([g.ram]), layout)
    k.attach()
    assert k.phys_base == delta and k.nr_cpu_ids() == 2
    g.put(layout.symbols["phys_base"] - 0xFFFFFFFF80000000 + delta, struct.pack("<Q", 0))
    with pytest.raises(LayoutMismatch, match="phys_base says 0x0"):
        KernelMemory(GuestMemory.pc_layout([g.ram]), layout).attach()
