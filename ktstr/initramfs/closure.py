"""The shared-library closure of ELF binaries, read with pyelftools.

For each binary: its program interpreter (PT_INTERP) and every DT_NEEDED library, resolved
like ld.so does (DT_RPATH when there is no DT_RUNPATH, then DT_RUNPATH, with $ORIGIN, then
the ld.so.conf directories and the default ones), recursively. A statically linked binary
has an empty closure. A library that cannot be found is an error naming it and the binary
that needs it: the guest would fail at exec time with a far less helpful message.

What goes into the image is bounded: an interpreter or library must sit in a system library
directory (DEFAULT_DIRS and the ld.so.conf ones, root's) or be one of the target's own files
(the binaries themselves and what the caller declares as `own`). Anything else a binary
names (a DT_NEEDED with a "/", a PT_INTERP, a DT_RPATH/DT_RUNPATH into the user's home) is
refused, naming the ELF and the entry: a crafted binary must not carry ~/.netrc into the
guest, whose console the report shows.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

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


class _Admission:
    """Where an interpreter or a library may come from (see the module docstring)."""

    def __init__(self, system_dirs: tuple[str, ...], own: list[str]) -> None:
        self.system_dirs = tuple(dict.fromkeys(os.path.normpath(d) for d in system_dirs if d.startswith("/")))
        self.own_files: set[str] = set()
        self.own_dirs: list[str] = []
        for p in own:
            real = os.path.realpath(p)
            if os.path.isdir(real):
                self.own_dirs.append(real.rstrip("/") + "/")
            else:
                self.own_files.add(real)

    def check(self, path: str, elf: str, entry: str) -> None:
        """`path` is what `entry` of `elf` resolved to; refuse it unless it is admitted."""
        where = os.path.normpath(os.path.abspath(path))
        if os.path.dirname(where) in self.system_dirs:
            return
        real = os.path.realpath(path)
        if real in self.own_files or any(real.startswith(d) for d in self.own_dirs):
            return
        raise ClosureError(
            f"{elf}: {entry} names {where}, which is neither in a system library directory "
            f"({', '.join(self.system_dirs)}) nor one of the target's own files: refused (it would be "
            f"packed into the guest image). Link against a library installed in a system "
            f"directory, or ship it as one of the target's files")


def closure(binaries: list[str], extra_dirs: tuple[str, ...] = (), own: Sequence[str] = ()) -> list[str]:
    """Host paths (as found, symlinks not resolved) of every interpreter and library the
    binaries need, sorted. Non-ELF files contribute nothing. `extra_dirs`: more system
    directories to search and admit; `own`: the target's own files and directories (with
    the binaries, the only place outside the system directories a library may come from)."""
    search = tuple(extra_dirs) + ld_so_conf_dirs() + DEFAULT_DIRS
    admission = _Admission(search, [*binaries, *own])
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
            admission.check(info.interp, path, f"PT_INTERP {info.interp!r}")
            if not os.path.exists(info.interp):
                raise ClosureError(f"{path} needs the program interpreter {info.interp}, which "
                                   f"does not exist on this host")
            result.add(info.interp)
        for name in info.needed:
            if "/" in name:  # before touching it: a path is admitted or never opened
                admission.check(name, path, f"DT_NEEDED {name!r}")
            lib = resolve(name, path, info, search)
            admission.check(lib, path, f"DT_NEEDED {name!r}")
            result.add(lib)
            todo.append(lib)
    return sorted(result)
