"""Writes the fuzz targets' seed corpora (vmm/fuzz/corpus/<target>/), small inputs that
reach each target's main paths: valid bzImages with and without initrd and command line,
the issue's crafted images, common topologies, Intel- and AMD-like CPUID lists, and the port
sequences Linux uses (8250 probe and THRE interrupts, CMOS clock, ACPI S5, PM timer reads,
i8042 reset). Deterministic; rerun after changing an input format:
    python3 vmm/fuzz/make_seeds.py
"""

from __future__ import annotations

import struct
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"


def bzimage(setup_sects=1, relocatable=1, pref_address=0x1000000, init_size=0x10000,
            cmdline_size=2047, initrd_addr_max=0x7FFFFFFF, kernel_len=2048) -> bytes:
    hdr = bytearray(1024)
    hdr[0x1F1] = setup_sects
    struct.pack_into("<H", hdr, 0x1FE, 0xAA55)
    hdr[0x200:0x202] = b"\xeb\x66"
    hdr[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", hdr, 0x206, 0x20F)
    struct.pack_into("<I", hdr, 0x22C, initrd_addr_max)
    hdr[0x234] = relocatable
    struct.pack_into("<H", hdr, 0x236, 1)  # XLF_KERNEL_64
    struct.pack_into("<I", hdr, 0x238, cmdline_size)
    struct.pack_into("<Q", hdr, 0x258, pref_address)
    struct.pack_into("<I", hdr, 0x260, init_size)
    setup = bytes(hdr) + bytes(max(0, (setup_sects + 1) * 512 - 1024))
    return setup + bytes(range(256)) * (kernel_len // 256)


def bzimage_input(image: bytes, initrd: int | None = None, cmdline: bytes | None = None,
                  ram_kib: int = 0) -> bytes:
    flags = (1 if initrd is not None else 0) | (2 if cmdline is not None else 0)
    line = cmdline or b""
    return bytes([flags]) + struct.pack("<IQ", ram_kib, initrd or 0) + bytes([len(line)]) + line + image


def topology(nodes, llcs, cores, threads, raw=False) -> bytes:
    if raw:
        return b"\x01" + struct.pack("<4I", nodes, llcs, cores, threads)
    return b"\x00" + bytes([nodes - 1, llcs // nodes - 1, cores - 1, threads - 1])


def cpuid_entries(*entries) -> bytes:
    return b"".join(struct.pack("<6I", *e) for e in entries)


KVM_LEAVES = [(0x40000000, 0, 0x40000001, 0x4B4D564B, 0x564B4D56, 0x4D), (0x40000001, 0, 0x01007AFB, 0, 0, 0)]
INTEL = [(0, 0, 0x1F, 0x756E6547, 0x6C65746E, 0x49656E69), (1, 0, 0x000806F8, 0x00000800, 0x7FFAFBFF, 0xBFEBFBFF)]
AMD = [(0, 0, 0x10, 0x68747541, 0x444D4163, 0x69746E65), (1, 0, 0x00A10F11, 0x00000800, 0x7EF8320B, 0x178BFBFF),
       (0x80000000, 0, 0x80000008, 0, 0, 0), (0x80000006, 0, 0, 0, 0x02006140, 0)]
QEMU_TCG_MAX = [(0, 0, 0xD, 0x68747541, 0x444D4163, 0x69746E65), (1, 0, 0x000F06B1, 0, 0x80000000, 0)]


def pio(*ops) -> bytes:
    """ops: (device index in the device table's order (devices/devices.c), write, vCPU, offset, data, clock step)."""
    return b"".join(bytes([dev | (w << 3) | (cpu << 4), off, data, step]) for dev, w, cpu, off, data, step in ops)


COM1, COM2, CMOS, I8042, PM1, TIMER, DEBUG = range(7)


def main() -> None:
    seeds = {
        "bzimage": {
            "relocatable": bzimage_input(bzimage()),
            "initrd_cmdline": bzimage_input(bzimage(), initrd=0x3000, cmdline=b"console=ttyS0 quiet"),
            "fixed_16mib": bzimage_input(bzimage(relocatable=0, setup_sects=4)),
            # the wrap, scaled to a small seed: 1 KiB below 2^64 with a 2 KiB kernel, so
            # load_addr + pm_size and init_end wrap into low RAM (the old loader then wrote
            # 1 KiB before guest memory)
            "pref_address_wrap": bzimage_input(bzimage(relocatable=0, pref_address=2**64 - 0x400, init_size=0x200000)),
            "setup_sects_past_end": bzimage_input(bzimage(setup_sects=255)[:1024]),
            "initrd_huge": bzimage_input(bzimage(), initrd=1 << 40),
            "ram_17mib": bzimage_input(bzimage(), initrd=0x3000, ram_kib=17 << 10),
            "ram_512kib": bzimage_input(bzimage(), ram_kib=512),
            "initrd_addr_max_low": bzimage_input(bzimage(initrd_addr_max=0x1000FFF), initrd=0x1000),
        },
        "acpi": {
            "1n1l1c1t": topology(1, 1, 1, 1) + struct.pack("<Q", 64 << 20),
            "2n4l4c2t": topology(2, 4, 4, 2) + struct.pack("<Q", 512 << 20),
            "4n8l8c2t_4g": topology(4, 8, 8, 2) + struct.pack("<Q", 4 << 30),
            "3n3l3c1t_odd": topology(3, 3, 3, 1) + struct.pack("<Q", (3 << 30) + (7 << 20)),
            "wrap_1n2l2147483649c1t": topology(1, 2, 2147483649, 1, raw=True) + struct.pack("<Q", 64 << 20),
        },
        "cpuid": {
            "intel_2n4l2c2t": topology(2, 4, 2, 2) + struct.pack("<IB", 5, 1) + cpuid_entries(*INTEL, *KVM_LEAVES),
            "amd_1n2l4c2t": topology(1, 2, 4, 2) + struct.pack("<IB", 9, 0) + cpuid_entries(*AMD, *KVM_LEAVES),
            "tcg_max_1n3l3c1t": topology(1, 3, 3, 1) + struct.pack("<IB", 8, 1) + cpuid_entries(*QEMU_TCG_MAX, *KVM_LEAVES),
            "no_kvm_leaves": topology(1, 1, 2, 1) + struct.pack("<IB", 1, 0) + cpuid_entries(*INTEL),
        },
        "pio": {
            # Linux's 8250 probe (scratch, loopback MSR), then THRE-driven output with OUT2
            "serial": pio((COM1, 1, 0, 7, 0xA5, 0), (COM1, 0, 0, 7, 0, 0), (COM1, 1, 0, 4, 0x1F, 0),
                          (COM1, 0, 0, 6, 0, 0), (COM1, 1, 0, 3, 0x80, 0), (COM1, 1, 0, 0, 1, 0),
                          (COM1, 1, 0, 3, 3, 0), (COM1, 1, 0, 4, 0x0B, 0), (COM1, 1, 0, 1, 2, 0),
                          (COM1, 0, 0, 2, 0, 0), (COM1, 1, 1, 0, ord("h"), 0), (COM1, 1, 2, 0, ord("\n"), 0),
                          (COM1, 0, 0, 5, 0, 0), (COM2, 1, 0, 4, 0x08, 0), (COM2, 1, 0, 1, 2, 0),
                          (COM2, 1, 0, 0, 0x42, 0)),
            "cmos": pio((CMOS, 1, 0, 0, 0x8A, 0), (CMOS, 0, 0, 1, 0, 0), (CMOS, 1, 0, 0, 0x00, 0),
                        (CMOS, 0, 0, 1, 0, 0), (CMOS, 1, 0, 0, 0x32, 0), (CMOS, 0, 0, 1, 0, 0)),
            "acpi_s5": pio((PM1, 1, 0, 2, 0x20, 0), (PM1, 1, 0, 3, 0x01, 0), (PM1, 0, 0, 4, 0, 0),
                           (PM1, 1, 0, 4, 0x01, 0), (PM1, 1, 0, 5, 0x14, 0), (PM1, 1, 0, 5, 0x34, 0)),
            "pm_timer": pio((TIMER, 0, 0, 0, 0, 200), (TIMER, 0, 0, 1, 0, 0), (TIMER, 0, 0, 2, 0, 0),
                            (TIMER, 0, 0, 3, 0, 0), (TIMER, 0, 3, 0, 0, 1), (TIMER, 1, 0, 0, 0, 0)),
            "i8042_reset": pio((I8042, 0, 0, 4, 0, 0), (I8042, 0, 0, 1, 0, 0), (I8042, 1, 0, 0, 0xFE, 0),
                               (I8042, 1, 0, 4, 0xFE, 0)),
            "debug_exit": pio((DEBUG, 0, 0, 0, 0, 0), (DEBUG, 0, 0, 1, 0, 0), (DEBUG, 1, 0, 0, 42, 0)),
        },
    }
    for target, files in seeds.items():
        out = CORPUS / target
        out.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
