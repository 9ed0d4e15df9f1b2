"""Where QEMU's pc machine puts a guest's RAM: the bytes below 4 GiB, the rest from 4 GiB.

The QEMU engine hands the host monitor its RAM backends with this split, and the monitor
places guest physical addresses by it; both read it here, so the engine needs nothing of
the monitor.
"""

# QEMU 7.2 pc (i440fx): RAM below 4 GiB ends at 3.5 GiB, or at 3 GiB (gigabyte alignment)
# once the guest has 3.5 GiB or more.
PC_LOWMEM_MAX = 0xE0000000
PC_LOWMEM_ALIGNED = 0xC0000000


def pc_ram_split(size: int) -> int:
    """Bytes of RAM QEMU's pc machine puts below 4 GiB for a guest of `size` bytes."""
    if size < PC_LOWMEM_MAX:
        return size
    return PC_LOWMEM_ALIGNED
