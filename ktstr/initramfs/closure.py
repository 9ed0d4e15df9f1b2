"""The shared-library closure of ELF binaries, read with pyelftools.

For each binary: its program interpreter (PT_INTERP) and every DT_NEEDED library, resolved
like ld.so does (DT_RPATH when there is no DT_RUNPATH, then DT_RUNPATH, with $ORIGIN, then
the ld.so.conf directories and the default ones), recursively. A statically linked binary
has an empty closure. A library that cannot be found is an error naming it and the binary
that needs it: the guest would fail at exec time with a far less helpful message.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from functools import lru_cache

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from ktstr.errors import KtstrError

DEFAULT_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
                "/lib", "/usr/lib")


class ClosureError(KtstrError, RuntimeError):
    pass


@dataclass
class ElfInfo:
    interp: str | None
    needed: list[str] = field(default_factory=list)
    rpath: list[str] = field(default_factory=list)
    runpath: list[str] = field(default_factory=list)
    elfclass: int = 64
    machine: str = ""


def read_elf(path: str) -> ElfInfo | None:
    """ELF facts of `path`, or None if it is not an ELF file (scripts, data)."""
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                return None
            f.seek(0)
            elf = ELFFile(f)
            info = ElfInfo(interp=None, elfclass=elf.elfclass, machine=elf["e_machine"])
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_INTERP":
                    info.interp = seg.get_interp_name()
            for sec in elf.iter_sections():
                if not isinstance(sec, DynamicSection):
                    continue
                for tag in sec.iter_tags():
                    if tag.entry.d_tag == "DT_NEEDED":
                        info.needed.append(tag.needed)
                    elif tag.entry.d_tag == "DT_RPATH":
                        info.rpath += tag.rpath.split(":")
                    elif tag.entry.d_tag == "DT_RUNPATH":
                        info.runpath += tag.runpath.split(":")
            return info
    except (ELFError, OSError) as exc:
        raise ClosureError(f"cannot read ELF file {path}: {exc}") from exc


@lru_cache(maxsize=1)
def ld_so_conf_dirs(conf: str = "/etc/ld.so.conf") -> tuple[str, ...]:
    dirs: list[str] = []

    def parse(path: str) -> None:
        try:
            lines = open(path).read().splitlines()
        except OSError:
            return
        for line in lines:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("include "):
                pattern = line.split(None, 1)[1]
                if not pattern.startswith("/"):
                    pattern = os.path.join(os.path.dirname(path), pattern)
                for inc in sorted(glob.glob(pattern)):
                    parse(inc)
            else:
                dirs.append(line)

    parse(conf)
    return tuple(dirs)


def _expand(dirs: list[str], origin: str) -> list[str]:
    return [d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for d in dirs if d]


def resolve(name: str, needer: str, info: ElfInfo, search: tuple[str, ...]) -> str:
    if "/" in name:
        if os.path.exists(name):
            return name
        raise ClosureError(f"{needer} needs {name}, which does not exist")
    origin = os.path.dirname(os.path.abspath(needer))
    dirs = [] if info.runpath else _expand(info.rpath, origin)
    dirs += _expand(info.runpath, origin)
    dirs += list(search)
    for d in dirs:
        candidate = os.path.join(d, name)
        if os.path.exists(candidate):
            cand = read_elf(candidate)
            if cand is not None and cand.elfclass == info.elfclass and cand.machine == info.machine:
                return candidate
    raise ClosureError(f"shared library {name} needed by {needer} was not found (searched "
                       f"{', '.join(dirs)}); install the package that provides it or link "
                       f"the binary statically")


def closure(binaries: list[str], extra_dirs: tuple[str, ...] = ()) -> list[str]:
    """Host paths (as found, symlinks not resolved) of every interpreter and library the
    binaries need, sorted. Non-ELF files contribute nothing."""
    search = tuple(extra_dirs) + ld_so_conf_dirs() + DEFAULT_DIRS
    seen: set[str] = set()
    todo = list(binaries)
    result: set[str] = set()
    while todo:
        path = todo.pop()
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        info = read_elf(path)
        if info is None:
            continue
        if info.interp:
            if not os.path.exists(info.interp):
                raise ClosureError(f"{path} needs the program interpreter {info.interp}, which "
                                   f"does not exist on this host")
            result.add(info.interp)
        for name in info.needed:
            lib = resolve(name, path, info, search)
            result.add(lib)
            todo.append(lib)
    return sorted(result)
