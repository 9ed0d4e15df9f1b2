"""A bzImage that QEMU loads and whose CPU then halts for good: a real QEMU process that sits
(no Linux needed), for tests of how the runner's children end."""

from __future__ import annotations

import struct
from pathlib import Path


def tiny_bzimage(path: Path) -> Path:
    """Linux boot protocol 2.02 header (Documentation/arch/x86/boot.rst): one setup sector;
    QEMU's option ROM enters the setup code at offset 0x200 in real mode, where a short jump
    skips the header to `cli; hlt; jmp $-1`."""
    image = bytearray(1024 + 512)  # boot sector + 1 setup sector, then a 512-byte "kernel"
    image[0x1F1] = 1  # setup_sects
    struct.pack_into("<H", image, 0x1FE, 0xAA55)  # boot_flag
    image[0x200:0x202] = bytes([0xEB, 0x70 - 0x02])  # jmp short 0x270
    image[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", image, 0x206, 0x0202)  # protocol version
    image[0x211] = 0x01  # loadflags: LOADED_HIGH (kernel at 1 MiB)
    image[0x270:0x274] = bytes([0xFA, 0xF4, 0xEB, 0xFD])  # cli; hlt; jmp back to hlt
    path.write_bytes(bytes(image))
    return path
