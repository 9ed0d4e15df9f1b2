"""The per-run initramfs layer: /ktstr/run.json plus the test sources (and scheduler).

The kernel unpacks concatenated cpio archives in order, so this small layer, written at test
time, lands on top of the cached base image without rebuilding it. Written as a
deterministic newc archive (fixed mtimes, uid 0, sorted entries) so identical inputs give
identical bytes.
"""

from __future__ import annotations

import io
import json
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ktstr.initramfs.closure import closure
from ktstr.initramfs.cpio import Archive

RUN_JSON_PATH = "ktstr/run.json"


@dataclass(frozen=True)
class LayerFile:
    guest_path: str  # relative to / in the guest, e.g. "ktstr/tests/sched/fair.py"
    data: bytes
    mode: int = 0o644  # permission bits, or a full st_mode (S_IFLNK: data is the target)
    rdev: tuple[int, int] = (0, 0)  # (major, minor) for device nodes


@dataclass(frozen=True)
class HostPath:
    """A host file packed at the same path, with the symlinks on the way reproduced (so a
    binary's loader and libraries resolve in the guest as on the host)."""

    path: str


def cpio_newc(items: Iterable[LayerFile | HostPath]) -> bytes:
    """A deterministic newc archive (ktstr.initramfs.cpio) of the items."""
    archive = Archive()
    for item in items:
        if isinstance(item, HostPath):
            archive.add_host_path(item.path)
            continue
        kind = stat.S_IFMT(item.mode)
        if kind == stat.S_IFLNK:
            archive.add_symlink(item.guest_path, item.data.decode())
        elif kind == stat.S_IFCHR:
            archive.add_char_device(item.guest_path, *item.rdev, mode=item.mode)
        else:
            archive.add_bytes(item.guest_path, item.data, stat.S_IMODE(item.mode))
    out = io.BytesIO()
    archive.write_to(out)
    return out.getvalue()


def library_files(binaries: Iterable[Path], own: Iterable[Path] = ()) -> list[HostPath]:
    """The shared-library closure of binaries (interpreter included), as host paths. Only
    system libraries, the binaries and `own` (the target's other files) may be in it: a
    ClosureError names any other path a binary asks for."""
    return [HostPath(p) for p in closure([str(b) for b in binaries], own=[str(p) for p in own])]


def write_run_layer(path: Path, run_config: dict[str, Any], extra: Iterable[LayerFile | HostPath]) -> Path:
    text = json.dumps(run_config, indent=1, sort_keys=True) + "\n"
    files: list[LayerFile | HostPath] = [LayerFile(RUN_JSON_PATH, text.encode())]
    files += list(extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cpio_newc(files))
    return path
