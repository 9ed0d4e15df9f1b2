"""A bzImage that QEMU and the C VMM load and whose CPU then halts for good: a real VM that
sits (no Linux needed), for tests of how the runner's engines end."""

from __future__ import annotations

import struct
from pathlib import Path

_HALT = bytes([0xFA, 0xF4, 0xEB, 0xFD])  # cli; hlt; jmp back to hlt (the same bytes in 16 and 64 bit)


def tiny_bzimage(path: Path) -> Path:
    """Linux boot protocol 2.12 header (Documentation/arch/x86/boot.rst), one setup sector.
    QEMU's option ROM enters the setup code at offset 0x200 in real mode, where a short jump
    skips the header to the halt; the VMM enters the 64-bit entry (the protected-mode part,
    loaded at 1 MiB, + 0x200: XLF_KERNEL_64), which halts too."""
    image = bytearray(0x400 + 0x400)  # boot sector + 1 setup sector, then a 1 KiB "kernel"
    image[0x1F1] = 1  # setup_sects
    struct.pack_into("<H", image, 0x1FE, 0xAA55)  # boot_flag
    image[0x200:0x202] = bytes([0xEB, 0x70 - 0x02])  # jmp short 0x270, past the header
    image[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", image, 0x206, 0x020C)  # protocol version
    image[0x211] = 0x01  # loadflags: LOADED_HIGH (kernel at 1 MiB)
    struct.pack_into("<I", image, 0x214, 0x100000)  # code32_start
    struct.pack_into("<I", image, 0x22C, 0x7FFFFFFF)  # initrd_addr_max
    struct.pack_into("<I", image, 0x230, 0x200000)  # kernel_alignment
    image[0x234] = 1  # relocatable
    struct.pack_into("<H", image, 0x236, 0x0001)  # xloadflags: XLF_KERNEL_64
    struct.pack_into("<I", image, 0x238, 2047)  # cmdline_size
    struct.pack_into("<Q", image, 0x258, 0x1000000)  # pref_address
    struct.pack_into("<I", image, 0x260, 0x100000)  # init_size
    image[0x270:0x274] = _HALT  # real mode (QEMU)
    image[0x600:0x604] = _HALT  # startup_64 (the VMM)
    path.write_bytes(bytes(image))
    return path
