"""Builders for the monitor's unit tests: a fake vmlinux (tests/monitor/fake_kernel.c with
.BTF from pahole, like a real one) and a synthetic guest RAM laid out as a booted x86_64
kernel would be, written through the same layout the monitor reads with."""

from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

from ktstr.monitor.layout import PAGE_OFFSET_L4, START_KERNEL_MAP, KernelLayout, build_layout

HERE = Path(__file__).resolve().parent
MIB = 1 << 20
IMAGE_PA = 16 * MIB  # where the "kernel image" sits in guest RAM (CONFIG_PHYSICAL_START)
IMAGE_VA = START_KERNEL_MAP + IMAGE_PA
RQ_PA = 2 * MIB  # cpu N's run queue at RQ_PA + N MiB (direct map)
TASK_PA = 8 * MIB  # tasks at TASK_PA + i * 64 KiB (direct map)
PERCPU_SYM = 0x20000  # runqueues' value: an offset in the (zero-based) per-CPU section


def fake_vmlinux(tmp: Path) -> Path:
    for tool in ("gcc", "pahole"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is needed to build the fake vmlinux (tools/debian-packages.txt)")
    out = tmp / "fake_vmlinux"
    subprocess.run(["gcc", "-g", "-O0", "-nostdlib", "-static", "-no-pie", "-Wl,-e,0",
                    "-Wl,--build-id=none", str(HERE / "fake_kernel.c"), "-o", str(out)], check=True)
    subprocess.run(["pahole", "-J", str(out)], check=True, capture_output=True)
    return out


def fake_layout(tmp: Path, hz: int = 1000) -> KernelLayout:
    cfg = tmp / "config"
    cfg.write_text(f"CONFIG_HZ={hz}\n")
    built = build_layout(fake_vmlinux(tmp), cfg)
    # Place the globals in a kernel-image-like address range (the fake ELF links them low).
    syms = dict(built.symbols)
    for i, name in enumerate(("linux_banner", "phys_base", "page_offset_base", "jiffies",
                              "nr_cpu_ids", "scx_ops_enable_state_var", "__per_cpu_offset")):
        syms[name] = IMAGE_VA + 0x1000 * i
    syms["runqueues"] = PERCPU_SYM
    return replace(built, symbols=syms)


class SyntheticGuest:
    """A bytearray of guest RAM with a 'booted kernel' in it, editable per CPU."""

    def __init__(self, layout: KernelLayout, nr_cpus: int = 2, ram_mib: int = 24) -> None:
        self.lay = layout
        self.nr_cpus = nr_cpus
        self.ram = bytearray(ram_mib * MIB)
        self._tasks = 0
        s = layout.symbols
        self.put_image(s["linux_banner"], layout.banner.encode() + b"\n\0")
        self.put_image(s["phys_base"], struct.pack("<Q", 0))
        self.put_image(s["page_offset_base"], struct.pack("<Q", PAGE_OFFSET_L4))
        self.put_image(s["nr_cpu_ids"], struct.pack("<I", nr_cpus))
        self.set_jiffies(1000)
        self.set_scx_state("DISABLED")
        self.idle_tasks = [self.new_task(0, f"swapper/{c}") for c in range(nr_cpus)]
        for cpu in range(nr_cpus):
            self.put_image(s["__per_cpu_offset"] + 8 * cpu,
                           struct.pack("<Q", PAGE_OFFSET_L4 + RQ_PA + cpu * MIB - PERCPU_SYM))
            rq = self.rq_pa(cpu)
            head = PAGE_OFFSET_L4 + rq + layout.off("rq.scx.runnable_list")
            self.put(rq + layout.off("rq.scx.runnable_list"), struct.pack("<QQ", head, head))
            self.set_cpu(cpu, nr_running=0, clock=10**9, curr=self.idle_tasks[cpu])
            self.put(rq + layout.off("rq.idle"), struct.pack("<Q", self.idle_tasks[cpu]))

    def put(self, pa: int, data: bytes) -> None:
        self.ram[pa:pa + len(data)] = data

    def put_image(self, va: int, data: bytes) -> None:
        self.put(va - START_KERNEL_MAP, data)

    def rq_pa(self, cpu: int) -> int:
        return RQ_PA + cpu * MIB

    def set_jiffies(self, j: int) -> None:
        self.put_image(self.lay.symbols["jiffies"], struct.pack("<Q", j))

    def set_scx_state(self, name: str) -> None:
        self.put_image(self.lay.symbols["scx_ops_enable_state_var"],
                       struct.pack("<i", self.lay.enable_states[name]))

    def new_task(self, pid: int, comm: str, allowed: int = 0) -> int:
        """A task; `allowed` is its CPU mask (0: every CPU), kept in the task like
        task_struct.cpus_mask, which cpus_ptr points at."""
        pa = TASK_PA + self._tasks * 0x10000
        self._tasks += 1
        self.put(pa + self.lay.off("task_struct.pid"), struct.pack("<i", pid))
        self.put(pa + self.lay.off("task_struct.comm"), comm.encode()[:15].ljust(16, b"\0"))
        mask_pa = pa + 0x8000
        self.put(mask_pa, struct.pack("<Q", allowed or (1 << self.nr_cpus) - 1))
        self.put(pa + self.lay.off("task_struct.cpus_ptr"), struct.pack("<Q", PAGE_OFFSET_L4 + mask_pa))
        return PAGE_OFFSET_L4 + pa

    def set_cpu(self, cpu: int, nr_running: int, clock: int, curr: int, scx_nr: int = 0,
                local_dsq: int = 0) -> None:
        rq, o = self.rq_pa(cpu), self.lay.off
        self.put(rq + o("rq.nr_running"), struct.pack("<I", nr_running))
        self.put(rq + o("rq.clock"), struct.pack("<Q", clock))
        self.put(rq + o("rq.curr"), struct.pack("<Q", curr))
        self.put(rq + o("rq.scx.nr_running"), struct.pack("<I", scx_nr))
        self.put(rq + o("rq.scx.local_dsq.nr"), struct.pack("<I", local_dsq))

    def make_waiting(self, cpu: int, task_va: int, runnable_at: int) -> None:
        """Put `task` at the head of cpu's runnable_list, runnable since `runnable_at`."""
        o = self.lay.off
        head = PAGE_OFFSET_L4 + self.rq_pa(cpu) + o("rq.scx.runnable_list")
        node = task_va + o("task_struct.scx.runnable_node")
        self.put(self.rq_pa(cpu) + o("rq.scx.runnable_list"), struct.pack("<QQ", node, node))
        tpa = task_va - PAGE_OFFSET_L4
        self.put(tpa + o("task_struct.scx.runnable_node"), struct.pack("<QQ", head, head))
        self.put(tpa + o("task_struct.scx.runnable_at"), struct.pack("<Q", runnable_at))
