"""The Linux boot protocol and AP bring-up, checked with synthetic guests on real /dev/kvm.

fake_bzimage is a bzImage whose startup_64 reports the state the loader handed over; sipi's
BSP starts the APs with INIT/SIPI through the in-kernel LAPIC, as Linux does.
"""

import re
from pathlib import Path

import pytest
from vmm.tests.conftest import valgrind_or_skip

GUESTS = Path("vmm/tests/guests")
FAKE_KERNEL = str(GUESTS / "fake_bzimage.bin")
CMDLINE = "console=ttyS0 ktstr.test=boot-protocol"


def handed_over(out: str) -> dict:
    values, e820 = {}, []
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key == "e820":
            e820.append(tuple(int(v, 16) for v in value.split(",")))
        elif key in ("cmdline", "initrd_head"):
            values[key] = value
        elif key:
            values[key] = int(value, 16)
    values["e820"] = e820
    return values


@pytest.fixture
def initrd(tmp_path):
    path = tmp_path / "initrd.cpio"
    path.write_bytes(b"KTSTRRD!" + bytes(range(256)) * 40)
    return path


def test_entry_state_is_what_the_64_bit_boot_protocol_requires(vmm, initrd):
    r = vmm("--memory-mib", "256", "--kernel", FAKE_KERNEL, "--initrd", str(initrd), "--cmdline", CMDLINE)
    assert r.report["exit"] == "debug_exit" and r.report["status"] == "7", r.report
    v = handed_over(r.out)
    # __BOOT_CS / __BOOT_DS, interrupts off, RSI = boot_params, entry = load address + 0x200
    assert (v["cs"], v["ds"], v["es"], v["ss"]) == (0x10, 0x18, 0x18, 0x18)
    assert not v["rflags"] & 0x200
    assert v["rsi"] == 0x7000 and v["rip"] == 0x100200 and v["code32"] == 0x100000
    # boot_params carries the header copy, our loader type, the command line and the initrd
    assert v["magic"] == 0x53726448 and v["loader"] == 0xFF and v["loadflags"] & 0x01
    assert v["cmdline"] == CMDLINE and v["cmdline_ptr"] == 0x20000
    size = initrd.stat().st_size
    assert v["initrd_size"] == size and v["initrd_head"] == "KTSTRRD!"
    assert v["initrd"] % 4096 == 0 and v["initrd"] + size <= 256 << 20  # top of RAM
    assert v["initrd"] >= (16 << 20) + 0x100000  # clear of the kernel's init_size
    assert v["rsdp"] == 0xE0000


@pytest.mark.parametrize("memory_mib, expected", [
    (256, [(0, 0x9FC00, 1), (0x9FC00, 0x60400, 2), (0x100000, (256 << 20) - 0x100000, 1)]),
    # Above 3 GiB the RAM goes around the MMIO gap (IOAPIC, LAPIC) and continues at 4 GiB.
    (4096, [(0, 0x9FC00, 1), (0x9FC00, 0x60400, 2), (0x100000, 0xC0000000 - 0x100000, 1),
            (1 << 32, 1 << 30, 1)]),
])
def test_e820_map(vmm, memory_mib, expected):
    r = vmm("--memory-mib", str(memory_mib), "--kernel", FAKE_KERNEL)
    v = handed_over(r.out)
    assert v["e820"] == expected and v["e820_entries"] == len(expected)
    assert v["initrd_size"] == 0


def test_initrd_stays_below_initrd_addr_max_with_more_ram(vmm, initrd):
    v = handed_over(vmm("--memory-mib", "4096", "--kernel", FAKE_KERNEL, "--initrd", str(initrd)).out)
    assert v["initrd"] + v["initrd_size"] <= 0x80000000  # the header's initrd_addr_max + 1


def test_not_a_bzimage_is_named(vmm):
    r = vmm("--kernel", str(GUESTS / "exit_status.bin"))
    assert r.rc == 125 and "not a bzImage" in r.report["message"] and "exit_status.bin" in r.report["message"]


def test_too_little_memory_for_the_kernel_is_named(vmm):
    r = vmm("--memory-mib", "16", "--kernel", FAKE_KERNEL)
    assert r.rc == 125 and "memory_mib: 16 MiB is too small" in r.report["message"]


def test_command_line_longer_than_the_kernel_takes_is_named(vmm):
    r = vmm("--kernel", FAKE_KERNEL, "--cmdline", "x" * 3000)
    assert r.rc == 125 and "cmdline: 3000 bytes, the kernel takes at most 2047" in r.report["message"]


@pytest.mark.parametrize("topo", ["1n1l2c1t", "1n2l4c2t", "1n3l3c1t"])
def test_init_sipi_brings_up_every_ap(vmm, topo):
    _n, llcs, c, t = map(int, re.match(r"(\d+)n(\d+)l(\d+)c(\d+)t", topo).groups())
    r = vmm("--sipi", "--topology", topo, "--timeout-ms", "20000", str(GUESTS / "sipi.bin"))
    assert r.rc == 0 and r.report["exit"] == "debug_exit", (r.out, r.report)
    aps = sorted(int(m, 16) for m in re.findall(r"^ap apic=([0-9a-f]+)$", r.out, re.M))
    tbits, cbits = (t - 1).bit_length(), (c - 1).bit_length()
    expected = sorted((llc << (tbits + cbits)) | (core << tbits) | thread
                      for llc in range(llcs) for core in range(c) for thread in range(t))[1:]
    assert aps == expected, "each AP starts once, in real mode, with its own APIC ID"
    assert f"bsp aps={len(expected):02x} expected={len(expected):02x}" in r.out


def test_linux_path_and_sipi_are_clean_under_valgrind(vmm, initrd):
    valgrind_or_skip()
    grind = ("valgrind", "--error-exitcode=99", "--leak-check=full",
             "--errors-for-leak-kinds=definite,indirect", "-q")
    r = vmm("--kernel", FAKE_KERNEL, "--initrd", str(initrd), "--cmdline", CMDLINE, wrapper=grind)
    assert r.rc == 7 and handed_over(r.out)["cmdline"] == CMDLINE, r.report
    r = vmm("--sipi", "--topology", "1n1l2c1t", "--timeout-ms", "60000", str(GUESTS / "sipi.bin"), wrapper=grind)
    assert r.rc == 0 and "bsp aps=01 expected=01" in r.out, r.report
