"""The ACPI tables the VMM gives a guest: valid for an independent checker (iasl -d), every
checksum right, and MADT/SRAT/SLIT saying exactly what the topology implies (parsed here in
Python, expectations computed here too, not taken from the C code)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from vmm.tests.topology_model import apic_id, parse_topo

VMM = Path("vmm/ktstr-vmm")
TABLES = ("XSDT", "FACP", "DSDT", "APIC", "SRAT", "SLIT")
GAP_START, HIGH_START = 3 << 30, 4 << 30

# (topology, memory MiB): the topologies, a 3-node one, a large one whose last APIC
# ID (255) needs an x2APIC entry, and memory that straddles the 3-4 GiB MMIO gap.
CASES = [("1n1l1c1t", 256), ("1n2l4c2t", 512), ("2n4l2c2t", 1024), ("3n3l2c1t", 768), ("2n6l1c1t", 512),
         ("2n2l16c8t", 4096)]


def dump(tmp_path: Path, topo: str, memory_mib: int) -> Path:
    out = tmp_path / topo
    proc = subprocess.run([str(VMM), "--topology", topo, "--memory-mib", str(memory_mib), "--dump-acpi", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return out


def entries(body: bytes):
    """(type, bytes) of each MADT/SRAT subtable."""
    while body:
        kind, length = body[0], body[1]
        assert length >= 2, "a zero-length subtable would loop forever in a guest"
        yield kind, body[:length]
        body = body[length:]


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def tables(request, tmp_path):
    topo, mem = request.param
    out = dump(tmp_path, topo, mem)
    return topo, mem, out, {p.stem: p.read_bytes() for p in out.glob("*.dat")}


def test_every_checksum_and_the_links_between_tables(tables):
    _, _, _, t = tables
    assert sorted(t) == sorted(("RSDP", "FACS") + TABLES)
    facs = t["FACS"]  # no checksum; 64 bytes, 64-byte aligned, FIRMWARE_CTRL points at it
    assert facs[:4] == b"FACS" and struct.unpack_from("<I", facs, 4)[0] == 64 == len(facs)
    facs_addr = struct.unpack_from("<I", t["FACP"], 36)[0]
    assert facs_addr % 64 == 0 and 0xE0000 <= facs_addr < 0x100000
    rsdp = t["RSDP"]
    assert rsdp[:8] == b"RSD PTR " and rsdp[15] == 2 and len(rsdp) == 36
    assert sum(rsdp[:20]) % 256 == 0 and sum(rsdp) % 256 == 0
    for name in TABLES:
        data = t[name]
        assert data[:4] == name.encode() and struct.unpack_from("<I", data, 4)[0] == len(data)
        assert sum(data) % 256 == 0, f"{name} checksum"
    xsdt = t["XSDT"]
    pointers = struct.unpack_from(f"<{(len(xsdt) - 36) // 8}Q", xsdt, 36)
    assert len(pointers) == 4 and all(0xE0000 <= p < 0x100000 for p in pointers)
    assert struct.unpack_from("<Q", rsdp, 24)[0] >= 0xE0000


def gas(fadt: bytes, offset: int) -> tuple[int, int, int, int]:
    """A Generic Address Structure: (space, bit width, access size, address)."""
    space, width, _, access, addr = struct.unpack_from("<BBBBQ", fadt, offset)
    return space, width, access, addr


def test_fadt_has_pm1_blocks_pm_timer_and_s5_power_off(tables):
    _, _, _, t = tables
    fadt, dsdt = t["FACP"], t["DSDT"]
    assert len(fadt) == 276 and fadt[8] == 6
    flags = struct.unpack_from("<I", fadt, 112)[0]
    # Not hardware-reduced: Linux would drop the legacy PIC and every ISA IRQ (the UARTs').
    assert not flags & (1 << 20), "HW_REDUCED_ACPI must be off"
    assert flags & (1 << 8), "TMR_VAL_EXT: a 32-bit PM timer"
    assert flags & 1, "WBINVD"
    sci, smi_cmd = struct.unpack_from("<HI", fadt, 46)
    assert sci == 9 and smi_cmd == 0  # no SMI port: ACPI mode from the start
    pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2, pm_tmr, gpe0, gpe1 = struct.unpack_from("<8I", fadt, 56)
    assert (pm1a_evt, pm1a_cnt, pm_tmr) == (0x600, 0x604, 0x608)
    assert pm1b_evt == pm1b_cnt == pm2 == gpe0 == gpe1 == 0
    assert tuple(fadt[88:92]) == (4, 2, 0, 4)  # PM1_EVT_LEN, PM1_CNT_LEN, PM2_CNT_LEN, PM_TMR_LEN
    # The extended blocks say the same (ACPICA warns when they differ); system I/O.
    assert gas(fadt, 148) == (1, 32, 3, 0x600)
    assert gas(fadt, 172) == (1, 16, 2, 0x604)
    assert gas(fadt, 208) == (1, 32, 3, 0x608)
    assert fadt[244:268] == bytes(24)  # sleep registers: hardware-reduced only
    assert gas(fadt, 116)[3] == 0x64 and fadt[128] == 0xFE  # reset: i8042
    assert fadt[108] == 0x32  # CMOS century register
    # Name (_S5, Package (4) {5, 0, 0, 0}): SLP_TYP 5 for power-off
    assert bytes.fromhex("085f53355f1207040a05000000") in dsdt[36:]


def test_madt_lists_every_apic_id_and_the_ioapic(tables):
    topo, _, _, t = tables
    n, llcs, c, th = parse_topo(topo)
    madt = t["APIC"]
    assert struct.unpack_from("<II", madt, 36) == (0xFEE00000, 1)
    cpus, ioapics, nmis = [], [], []
    for kind, e in entries(madt[44:]):
        if kind == 0:
            uid, apic, flags = struct.unpack_from("<BBI", e, 2)
            cpus.append((uid, apic, flags))
        elif kind == 9:
            apic, flags, uid = struct.unpack_from("<III", e, 4)
            assert apic > 254, "x2APIC entries only where xAPIC IDs run out"
            cpus.append((uid, apic, flags))
        elif kind == 1:
            ioapics.append(struct.unpack_from("<BxII", e, 2))
        elif kind == 4:
            nmis.append(e)
    expected = [(cpu, apic_id(cpu, n, llcs, c, th), 1) for cpu in range(llcs * c * th)]
    assert cpus == expected
    assert ioapics == [(0, 0xFEC00000, 0)]
    assert nmis == [bytes([4, 6, 0xFF, 0, 0, 1])]


def test_srat_maps_cpus_and_memory_to_nodes(tables):
    topo, mem_mib, _, t = tables
    n, llcs, c, th = parse_topo(topo)
    srat = t["SRAT"]
    node_of, memory = {}, []
    for kind, e in entries(srat[48:]):
        if kind == 0:
            lo, apic, flags = struct.unpack_from("<BBI", e, 2)
            hi = int.from_bytes(e[9:12], "little")
            assert flags == 1
            node_of[apic] = lo | hi << 8
        elif kind == 2:
            node, apic, flags = struct.unpack_from("<III", e, 4)
            node_of[apic] = node
        elif kind == 1:
            node, base, length, flags = struct.unpack_from("<IxxQQxxxxI", e, 2)
            assert flags == 1
            memory.append((node, base, length))
    llcs_per_node = llcs // n
    assert node_of == {apic_id(cpu, n, llcs, c, th): cpu // (c * th) // llcs_per_node for cpu in range(llcs * c * th)}
    # RAM split into n contiguous shares (2 MiB aligned, the last takes the rest), laid out
    # around the MMIO gap like the e820 map
    total = mem_mib << 20
    share = (total // n) & ~((2 << 20) - 1)
    expected = []
    for node in range(n):
        lo, hi = node * share, total if node == n - 1 else (node + 1) * share
        for start, size, offset in ((0, min(total, GAP_START), 0), (HIGH_START, max(0, total - GAP_START), GAP_START)):
            a, b = max(lo, offset), min(hi, offset + size)
            if a < b:
                expected.append((node, start + a - offset, b - a))
    assert memory == expected
    assert sum(length for _, _, length in memory) == total


def test_slit_distances(tables):
    topo, _, _, t = tables
    n = parse_topo(topo)[0]
    slit = t["SLIT"]
    assert struct.unpack_from("<Q", slit, 36)[0] == n
    assert list(slit[44:]) == [10 if i == j else 20 for i in range(n) for j in range(n)]


@pytest.mark.skipif(shutil.which("iasl") is None, reason="iasl missing (acpica-tools is in tools/debian-packages.txt)")
def test_iasl_disassembles_every_table_without_complaint(tables):
    _, _, out, _ = tables
    for name in TABLES + ("FACS",):  # (iasl -d has no RSDP disassembler; the RSDP is checked above)
        proc = subprocess.run(["iasl", "-d", f"{name}.dat"], cwd=out, capture_output=True, text=True, timeout=60)
        said = proc.stdout + proc.stderr
        assert proc.returncode == 0, said
        assert not re.search(r"error|warning|incorrect|invalid|terminates", said, re.I), said
        dsl = (out / f"{name}.dsl").read_text()
        assert not re.search(r"Incorrect checksum|Invalid|Unknown", dsl), dsl[:2000]


@pytest.mark.skipif(shutil.which("iasl") is None, reason="iasl missing (acpica-tools is in tools/debian-packages.txt)")
def test_iasl_would_catch_a_bad_checksum(tmp_path):
    out = dump(tmp_path, "1n1l2c1t", 256)
    srat = bytearray((out / "SRAT.dat").read_bytes())
    srat[9] ^= 0xFF
    (out / "BAD.dat").write_bytes(bytes(srat))
    proc = subprocess.run(["iasl", "-d", "BAD.dat"], cwd=out, capture_output=True, text=True, timeout=60)
    assert "Incorrect checksum" in proc.stdout + proc.stderr + (out / "BAD.dsl").read_text()


def test_bad_topology_is_named_without_a_vm(tmp_path):
    proc = subprocess.run([str(VMM), "--topology", "2n3l1c1t", "--dump-acpi", str(tmp_path / "x")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 125 and "llcs divisible by numa_nodes" in proc.stderr
