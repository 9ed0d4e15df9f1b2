"""The per-run initramfs layer: /ktstr/run.json plus the test sources (and scheduler).

The kernel unpacks concatenated cpio archives in order, so this small layer, written at test
time, lands on top of the cached base image without rebuilding it. Written as a
deterministic newc archive (fixed mtimes, uid 0, sorted entries) so identical inputs give
identical bytes.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

RUN_JSON_PATH = "ktstr/run.json"


@dataclass(frozen=True)
class LayerFile:
    guest_path: str  # relative to / in the guest, e.g. "ktstr/tests/sched/fair.py"
    data: bytes
    mode: int = 0o644  # permission bits, or a full st_mode (S_IFLNK: data is the target)
    rdev: tuple[int, int] = (0, 0)  # (major, minor) for device nodes


def _newc_entry(name: str, mode: int, data: bytes, ino: int, rdev: tuple[int, int] = (0, 0)) -> bytes:
    name_bytes = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_bytes), 0]
    header = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = header + name_bytes
    out += b"\0" * ((-len(out)) % 4)
    out += data
    out += b"\0" * ((-len(out)) % 4)
    return out


def cpio_newc(files: Iterable[LayerFile]) -> bytes:
    """A newc archive with parent directories created first; deterministic."""
    files = sorted(files, key=lambda f: f.guest_path)
    dirs: set[str] = set()
    for f in files:
        for parent in PurePosixPath(f.guest_path).parents:
            if str(parent) != ".":
                dirs.add(str(parent))
    out = bytearray()
    ino = 1
    for d in sorted(dirs, key=lambda p: (p.count("/"), p)):
        out += _newc_entry(d, stat.S_IFDIR | 0o755, b"", ino)
        ino += 1
    for f in files:
        mode = f.mode if stat.S_IFMT(f.mode) else stat.S_IFREG | f.mode
        out += _newc_entry(f.guest_path, mode, f.data, ino, f.rdev)
        ino += 1
    out += _newc_entry("TRAILER!!!", 0, b"", 0)
    out += b"\0" * ((-len(out)) % 512)
    return bytes(out)


def write_run_layer(path: Path, run_config: dict[str, Any], extra: Iterable[LayerFile]) -> Path:
    files = [LayerFile(RUN_JSON_PATH, json.dumps(run_config, indent=1, sort_keys=True).encode() + b"\n")]
    files += list(extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cpio_newc(files))
    return path
