"""Files around a boot, shared by the engines: initrd layers joined into one, the console
followed while the guest runs, the tail of a log."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Optional


def concatenate_initrds(parts: tuple[Path, ...], out: Path) -> Path:
    """One initrd file from the layers (the kernel unpacks concatenated cpio archives)."""
    if not parts:
        raise ValueError("no initramfs given: a ktstr guest needs at least the base initramfs")
    if len(parts) == 1:
        return Path(parts[0])
    with open(out, "wb") as dst:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, dst, 1 << 20)
            # newc archives are 4-byte aligned; pad so the next one starts on a boundary.
            pad = (-dst.tell()) % 4
            dst.write(b"\0" * pad)
    return out


def file_tail(path: Path, limit: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - limit))
        return f.read()


class ConsoleFollower:
    """Feeds console bytes to a callback while the guest runs (for terminal streaming)."""

    def __init__(self, path: Path, callback) -> None:
        self.path = path
        self.callback = callback
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        if self.callback is not None:
            self._thread = threading.Thread(target=self._follow, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _follow(self) -> None:
        with open(self.path, "rb") as f:
            while True:
                chunk = f.read(65536)
                if chunk:
                    self.callback(chunk)
                    continue
                if self._stop.is_set():
                    return
                time.sleep(0.05)
