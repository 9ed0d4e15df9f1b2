"""Guest memory seen from the host: physical reads from the engine's shared RAM, and the
x86_64 kernel-virtual translations the monitor needs.

The engine puts guest RAM in a memfd (QEMU `memory-backend-file` on /proc/self/fd/N with
share=on; the C VMM maps the same kind of fd), and this process maps it read-only. Guest
physical addresses map onto the file as QEMU's pc machine lays RAM out: the first
`below_4g` bytes at 0, the rest from 4 GiB (the PCI hole sits between).

Kernel-virtual addresses: the image (`__START_KERNEL_map` + `phys_base`), the direct map
(`page_offset_base`), and per-CPU variables (`__per_cpu_offset[cpu]` + the variable's
address, which lands in the direct map). Anything else (vmalloc, user space) is refused with
a MemoryReadError rather than guessed.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from typing import Optional

from ktstr.errors import KtstrError
from ktstr.host.engines.pc_ram import pc_ram_split
from ktstr.monitor.layout import KernelLayout

GIB = 1 << 30
FOUR_GIB = 4 * GIB
DIRECT_MAP_SPAN = 64 << 40  # 64 TiB: the 4-level direct map's size
PHYSICAL_ALIGN = 2 << 20  # x86_64 CONFIG_PHYSICAL_ALIGN default: where a relocated image may sit


class MemoryReadError(KtstrError, ValueError):
    """A read outside guest RAM or an address the reader cannot translate (named in the text)."""


class LayoutMismatch(MemoryReadError):
    """The layout from the build does not describe the booted kernel. `definitive`: another
    kernel's banner was read (not merely a kernel still decompressing itself)."""

    def __init__(self, message: str, definitive: bool = False) -> None:
        super().__init__(message)
        self.definitive = definitive


@dataclass(frozen=True)
class RamRegion:
    gpa: int  # guest physical start
    size: int
    offset: int  # offset in the backing RAM (the backends concatenated in order)


class GuestMemory:
    """Read-only view of guest RAM. `pieces` are the RAM backends in order (mmaps of the
    engine's memfds, one per NUMA node; or bytes in tests), concatenated as the engine lays
    them out; `regions` place that linear RAM in guest physical address space."""

    def __init__(self, pieces: list, regions: list[RamRegion], owners: tuple = ()) -> None:
        self._views = [memoryview(p) for p in pieces]
        self._starts = []
        total = 0
        for v in self._views:
            self._starts.append(total)
            total += len(v)
        self.ram_size = total
        self.regions = sorted(regions, key=lambda r: r.gpa)
        self._owners = list(owners)
        for r in self.regions:
            if r.offset + r.size > total:
                raise MemoryReadError(f"RAM region at {r.gpa:#x} (+{r.size:#x}) lies past the "
                                      f"{total:#x} bytes of backing RAM")

    @classmethod
    def pc_layout(cls, pieces: list, owners: tuple = (), below_4g: Optional[int] = None) -> "GuestMemory":
        """Linear RAM placed as x86 engines do: `below_4g` bytes at 0 (default: QEMU pc's
        split), the rest from 4 GiB."""
        size = sum(len(memoryview(p)) for p in pieces)
        low = min(size, below_4g) if below_4g is not None else pc_ram_split(size)
        regions = [RamRegion(0, low, 0)]
        if size > low:
            regions.append(RamRegion(FOUR_GIB, size - low, low))
        return cls(pieces, regions, owners)

    @classmethod
    def map_fds(cls, fds: list[int], below_4g: Optional[int] = None) -> "GuestMemory":
        """Map an engine's RAM files (memfds, in backend order) read-only."""
        maps = []
        for fd in fds:
            size = os.fstat(fd).st_size
            if size <= 0:
                raise MemoryReadError(f"guest RAM file (fd {fd}) is empty: the engine did not size it")
            maps.append(mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ))
        if not maps:
            raise MemoryReadError("no guest RAM file to map")
        return cls.pc_layout(maps, owners=tuple(maps), below_4g=below_4g)

    @property
    def size(self) -> int:
        return sum(r.size for r in self.regions)

    def close(self) -> None:
        for v in self._views:
            v.release()
        self._views = []
        for m in self._owners:
            m.close()
        self._owners = []

    def read_phys(self, gpa: int, length: int) -> bytes:
        for r in self.regions:
            if r.gpa <= gpa and gpa + length <= r.gpa + r.size:
                return self._read_linear(r.offset + (gpa - r.gpa), length)
        raise MemoryReadError(f"guest physical read {gpa:#x}+{length} is outside guest RAM "
                              f"({', '.join(f'{r.gpa:#x}-{r.gpa + r.size:#x}' for r in self.regions)})")

    def _read_linear(self, off: int, length: int) -> bytes:
        if not self._views:
            raise MemoryReadError("guest RAM is no longer mapped (the VM has stopped)")
        out = b""
        for start, v in zip(self._starts, self._views, strict=True):
            if off < start + len(v) and off + length > start:
                lo = max(off, start) - start
                hi = min(off + length, start + len(v)) - start
                out += bytes(v[lo:hi])
        return out


class KernelMemory:
    """Kernel-virtual reads of a guest booted from the kernel `layout` describes."""

    def __init__(self, mem: GuestMemory, layout: KernelLayout) -> None:
        self.mem = mem
        self.layout = layout
        self.phys_base = 0
        self.page_offset = layout.page_offset_default
        self._last_banner = ""

    # --- translation -----------------------------------------------------------------------

    def virt_to_phys(self, va: int) -> int:
        if va >= self.layout.start_kernel_map:
            return va - self.layout.start_kernel_map + self.phys_base
        if self.page_offset <= va < self.page_offset + DIRECT_MAP_SPAN:
            return va - self.page_offset
        raise MemoryReadError(f"kernel address {va:#x} is neither in the kernel image nor in the "
                              f"direct map (page_offset {self.page_offset:#x}): not translated")

    def in_direct_map(self, va: int) -> bool:
        return self.page_offset <= va < self.page_offset + DIRECT_MAP_SPAN

    def read(self, va: int, length: int) -> bytes:
        return self.mem.read_phys(self.virt_to_phys(va), length)

    def u32(self, va: int) -> int:
        return struct.unpack("<I", self.read(va, 4))[0]

    def s32(self, va: int) -> int:
        return struct.unpack("<i", self.read(va, 4))[0]

    def u64(self, va: int) -> int:
        return struct.unpack("<Q", self.read(va, 8))[0]

    def uint(self, va: int, size: int) -> int:
        return int.from_bytes(self.read(va, size), "little")

    def cstring(self, va: int, size: int) -> str:
        return self.read(va, size).split(b"\0", 1)[0].decode("utf-8", "replace")

    # --- attach: check the layout and learn the run-time bases -----------------------------

    def banner(self) -> str:
        return self.cstring(self.layout.symbol("linux_banner"), 512).rstrip("\n")

    def attach(self) -> None:
        """Check that the booted kernel is the one the layout describes, then read the
        run-time bases (phys_base, page_offset_base, __per_cpu_offset). Raises LayoutMismatch
        with both banners when the image does not match. Safe to call again after a
        failure: a kernel still unpacking itself (its .rodata written before its .data) fails
        now and passes later."""
        self.phys_base = 0
        self.page_offset = self.layout.page_offset_default
        seen = self.banner()
        if seen != self.layout.banner:
            moved = self._find_relocated_image()
            if moved is not None:  # a relocatable kernel loaded away from its link address
                self.phys_base = moved
                seen = self.banner()
        before, self._last_banner = self._last_banner, seen
        if seen != self.layout.banner:
            raise LayoutMismatch(
                f"the booted kernel does not match the monitor's layout: linux_banner reads "
                f"{seen[:100]!r}, the layout (from the build) expects {self.layout.banner[:100]!r}; "
                f"the layout must come from the same ktstr_kernel target as the bzImage"
                + (" (a KASLR kernel needs nokaslr on the command line)" if self.layout.kaslr else ""),
                # Another kernel's banner, read the same twice (not one being unpacked).
                definitive=seen.startswith("Linux version") and seen == before)
        found = self.phys_base
        said = self.u64(self.layout.symbol("phys_base"))
        if said != found:
            # The kernel's own phys_base must agree with where its banner was found (until
            # its .data is unpacked it does not).
            self.phys_base = 0
            raise LayoutMismatch(f"the kernel image was found {found:#x} bytes from its link "
                                 f"address but its phys_base says {said:#x}")
        pob = self.layout.symbols.get("page_offset_base")
        if pob is not None:
            self.page_offset = self.u64(pob)

    def _find_relocated_image(self) -> Optional[int]:
        """The physical offset (a multiple of CONFIG_PHYSICAL_ALIGN, 2 MiB) at which the
        banner appears, if the image is not at its link address; None if nowhere."""
        want = self.layout.banner.encode()[:64]
        base = self.layout.symbol("linux_banner") - self.layout.start_kernel_map
        step = PHYSICAL_ALIGN
        for delta in range(step, self.mem.ram_size, step):
            try:
                if self.mem.read_phys(base + delta, len(want)) == want:
                    return delta
            except MemoryReadError:
                continue
        return None

    def per_cpu_offsets(self, nr_cpus: int) -> list[int]:
        """__per_cpu_offset[0..nr_cpus); zero entries mean the per-CPU areas are not set up
        yet (early boot)."""
        base = self.layout.symbol("__per_cpu_offset")
        raw = self.read(base, 8 * nr_cpus)
        return list(struct.unpack(f"<{nr_cpus}Q", raw))

    def nr_cpu_ids(self) -> int:
        return self.u32(self.layout.symbol("nr_cpu_ids"))

    def jiffies(self) -> int:
        return self.u64(self.layout.symbol("jiffies"))
