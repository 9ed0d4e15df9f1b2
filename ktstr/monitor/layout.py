"""The kernel layout the monitor reads guest memory with, taken from the build (not guessed
at run time): symbol addresses from vmlinux's ELF symbol table, struct field offsets from its
.BTF section, CONFIG_HZ and KASLR from the kernel config, and the banner text the booted
kernel must show at `linux_banner` (the run-time check that the layout belongs to it).

`python -m ktstr.monitor.layout --vmlinux V --config C --out layout.json` is the tool of the
KernelLayout build action. The JSON schema is docs/monitor.md's "kernel layout".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ktstr.errors import KtstrError
from ktstr.monitor.btf import Btf, BtfError, FieldLayout

LAYOUT_SCHEMA = 1
# x86_64 constants (arch/x86/include/asm/page_64_types.h): the kernel image's virtual base,
# and the direct map's base when it is not a variable (no RANDOMIZE_MEMORY / 5-level paging).
START_KERNEL_MAP = 0xFFFFFFFF80000000
PAGE_OFFSET_L4 = 0xFFFF888000000000

# Symbols: required ones fail the action; optional ones are null when the kernel lacks them.
REQUIRED_SYMBOLS = ("linux_banner", "runqueues", "__per_cpu_offset", "phys_base", "jiffies",
                    "nr_cpu_ids")
OPTIONAL_SYMBOLS = ("page_offset_base", "scx_ops_enable_state_var", "scx_enable_state_var",
                    "scx_watchdog_timeout")

# Struct fields "struct:path". Required: the run queue and task basics; optional: sched_ext.
REQUIRED_FIELDS = ("rq:nr_running", "rq:clock", "rq:curr", "rq:idle", "rq:cpu",
                   "task_struct:pid", "task_struct:comm")
OPTIONAL_FIELDS = ("rq:scx", "rq:scx.nr_running", "rq:scx.local_dsq.nr", "rq:scx.runnable_list",
                   "task_struct:scx.runnable_node", "task_struct:scx.runnable_at",
                   "list_head:next", "task_struct:cpus_ptr")

# The sched_ext enable-state enum, by its 6.12 name and the later one.
ENABLE_STATE_ENUMS = ("scx_ops_enable_state", "scx_enable_state")


class LayoutError(KtstrError, ValueError):
    """The vmlinux or config cannot give the layout; the text names the file and the fix."""


@dataclass
class KernelLayout:
    release: str
    banner: str  # the text at linux_banner, without the trailing newline
    hz: int
    kaslr: bool  # CONFIG_RANDOMIZE_BASE=y: the runner boots it with nokaslr
    symbols: dict[str, Optional[int]]
    fields: dict[str, Optional[dict[str, int]]]  # "rq.clock" -> {"offset", "size"}
    enable_states: dict[str, int] = field(default_factory=dict)  # "ENABLED" -> value
    start_kernel_map: int = START_KERNEL_MAP
    page_offset_default: int = PAGE_OFFSET_L4
    schema: int = LAYOUT_SCHEMA

    def symbol(self, name: str) -> int:
        value = self.symbols.get(name)
        if value is None:
            raise LayoutError(f"the kernel layout has no symbol {name!r}")
        return value

    def off(self, name: str) -> int:
        f = self.fields.get(name)
        if f is None:
            raise LayoutError(f"the kernel layout has no field {name!r}")
        return f["offset"]

    def has_field(self, name: str) -> bool:
        return self.fields.get(name) is not None

    @property
    def has_sched_ext(self) -> bool:
        return all(self.has_field(f) for f in ("rq.scx.nr_running", "rq.scx.local_dsq.nr"))

    @property
    def enable_state_symbol(self) -> Optional[int]:
        return self.symbols.get("scx_ops_enable_state_var") or self.symbols.get("scx_enable_state_var")

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "release": self.release,
            "banner": self.banner,
            "hz": self.hz,
            "kaslr": self.kaslr,
            "start_kernel_map": self.start_kernel_map,
            "page_offset_default": self.page_offset_default,
            "symbols": dict(sorted(self.symbols.items())),
            "fields": dict(sorted(self.fields.items())),
            "enable_states": dict(sorted(self.enable_states.items(), key=lambda kv: kv[1])),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "layout") -> "KernelLayout":
        if data.get("error"):
            raise LayoutError(f"{source}: the build could not read this kernel's layout: {data['error']}")
        if data.get("schema") != LAYOUT_SCHEMA:
            raise LayoutError(f"{source}: layout schema {data.get('schema')!r}, this ktstr reads "
                              f"{LAYOUT_SCHEMA}: rebuild the kernel target's layout")
        try:
            return cls(release=data["release"], banner=data["banner"], hz=int(data["hz"]),
                       kaslr=bool(data["kaslr"]), symbols=dict(data["symbols"]),
                       fields=dict(data["fields"]), enable_states=dict(data["enable_states"]),
                       start_kernel_map=int(data["start_kernel_map"]),
                       page_offset_default=int(data["page_offset_default"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise LayoutError(f"{source}: malformed kernel layout ({exc})") from exc

    @classmethod
    def load(cls, path: Path) -> "KernelLayout":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise LayoutError(f"cannot read the kernel layout {path}: {exc}") from exc
        return cls.from_json(data, str(path))


def parse_config(text: str) -> tuple[int, bool]:
    """(CONFIG_HZ, CONFIG_RANDOMIZE_BASE=y) from a kernel .config."""
    hz = re.search(r"^CONFIG_HZ=(\d+)$", text, re.M)
    if not hz:
        raise LayoutError("the kernel config has no CONFIG_HZ line")
    kaslr = re.search(r"^CONFIG_RANDOMIZE_BASE=y$", text, re.M) is not None
    return int(hz.group(1)), kaslr


def btf_fields(btf: Btf) -> tuple[dict[str, Optional[dict[str, int]]], dict[str, int]]:
    fields: dict[str, Optional[dict[str, int]]] = {}
    for spec in REQUIRED_FIELDS + OPTIONAL_FIELDS:
        struct_name, path = spec.split(":")
        try:
            f: FieldLayout = btf.field(struct_name, path)
            fields[f"{struct_name}.{path}"] = {"offset": f.offset, "size": f.size}
        except BtfError as exc:
            if spec in REQUIRED_FIELDS:
                raise LayoutError(f"vmlinux BTF: {exc}") from exc
            fields[f"{struct_name}.{path}"] = None
    states: dict[str, int] = {}
    for name in ENABLE_STATE_ENUMS:
        try:
            raw = btf.enum(name)
        except BtfError:
            continue
        # SCX_OPS_ENABLED / SCX_ENABLED -> ENABLED
        states = {k.split("_")[-1]: v for k, v in raw.items()}
        break
    return fields, states


def elf_layout(vmlinux: Path) -> tuple[dict[str, Optional[int]], str, bytes]:
    """Symbol addresses, the linux_banner text and the raw .BTF section of a vmlinux."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(vmlinux, "rb") as f:
            elf = ELFFile(f)
            symtab = elf.get_section_by_name(".symtab")
            if symtab is None:
                raise LayoutError(f"{vmlinux} has no symbol table: the monitor needs the unstripped "
                                  f"vmlinux (symbols kept; DWARF may be stripped)")
            symbols: dict[str, Optional[int]] = {}
            for name in REQUIRED_SYMBOLS + OPTIONAL_SYMBOLS:
                hits = symtab.get_symbol_by_name(name)
                symbols[name] = hits[0]["st_value"] if hits else None
            missing = [n for n in REQUIRED_SYMBOLS if symbols[n] is None]
            if missing:
                raise LayoutError(f"{vmlinux} lacks symbol(s) {', '.join(missing)} (needs "
                                  f"CONFIG_SMP=y and CONFIG_KALLSYMS_ALL=y)")
            banner = _read_cstring(elf, symbols["linux_banner"])  # type: ignore[arg-type]
            btf_sec = elf.get_section_by_name(".BTF")
            if btf_sec is None:
                raise LayoutError(f"{vmlinux} has no .BTF section: build with CONFIG_DEBUG_INFO_BTF=y")
            return symbols, banner, btf_sec.data()
    except (ELFError, OSError) as exc:
        raise LayoutError(f"cannot read {vmlinux} as an ELF vmlinux: {exc}") from exc


def _read_cstring(elf, addr: int, limit: int = 512) -> str:
    for sec in elf.iter_sections():
        start, size = sec["sh_addr"], sec["sh_size"]
        if start and start <= addr < start + size and sec["sh_type"] != "SHT_NOBITS":
            data = sec.data()[addr - start: addr - start + limit]
            return data.split(b"\0", 1)[0].decode("utf-8", "replace").rstrip("\n")
    raise LayoutError(f"linux_banner at {addr:#x} is in no loaded section of the vmlinux")


def build_layout(vmlinux: Path, config: Path) -> KernelLayout:
    try:
        text = Path(config).read_text()
    except OSError as exc:
        raise LayoutError(f"cannot read the kernel config {config}: {exc}") from exc
    hz, kaslr = parse_config(text)
    symbols, banner, btf_data = elf_layout(vmlinux)
    try:
        fields, states = btf_fields(Btf(btf_data))
    except BtfError as exc:
        raise LayoutError(f"{vmlinux}: .BTF: {exc}") from exc
    m = re.match(r"Linux version (\S+)", banner)
    if not m:
        raise LayoutError(f"{vmlinux}: linux_banner does not start with 'Linux version': {banner[:80]!r}")
    return KernelLayout(release=m.group(1), banner=banner, hz=hz, kaslr=kaslr, symbols=symbols,
                        fields=fields, enable_states=states)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="ktstr.monitor.layout", description=__doc__.split("\n\n")[0])
    p.add_argument("--vmlinux", type=Path, required=True)
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    try:
        data = build_layout(args.vmlinux, args.config).to_json()
    except LayoutError as exc:
        # The kernel stays usable: its tests run, and the monitor says why it is skipped.
        print(f"ktstr kernel layout: {exc}; the host monitor will be skipped for this kernel",
              file=sys.stderr)
        data = {"schema": LAYOUT_SCHEMA, "error": str(exc)}
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
