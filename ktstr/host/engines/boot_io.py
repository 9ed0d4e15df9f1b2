"""The part of a boot every engine shares: check the inputs, join the initrd layers, create
the console and result files, follow the console while the guest runs, read the tails back.

    io = BootIO(self.name, spec)
    try:
        initrd = io.prepare()            # BootInputError naming what is wrong
    except BootInputError as exc:
        return io.error(str(exc))
    with io.following():
        ...launch and wait...
    return io.result(kind, why, detail)
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

from ktstr.errors import KtstrError
from ktstr.host.engines.base import CONSOLE_TAIL_BYTES, BootResult, BootSpec, ExitKind


class BootInputError(KtstrError, ValueError):
    """A boot input is missing or unusable (the engine never started)."""


def concatenate_initrds(parts: tuple[Path, ...], out: Path) -> Path:
    """One initrd file from the layers (the kernel unpacks concatenated cpio archives)."""
    if not parts:
        raise BootInputError("no initramfs given: a ktstr guest needs at least the base initramfs")
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

    def __init__(self, path: Path, callback: Optional[Callable[[bytes], None]]) -> None:
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
        assert self.callback is not None
        with open(self.path, "rb") as f:
            while True:
                chunk = f.read(65536)
                if chunk:
                    self.callback(chunk)
                    continue
                if self._stop.is_set():
                    return
                time.sleep(0.05)


class BootIO:
    """The files of one boot and its clock, for the engine running it."""

    def __init__(self, engine: str, spec: BootSpec) -> None:
        self.engine = engine
        self.spec = spec
        self.start = time.monotonic()

    def check_inputs(self) -> None:
        missing = [str(p) for p in (self.spec.kernel, *self.spec.initrds) if not Path(p).is_file()]
        if missing:
            raise BootInputError(f"missing boot input(s): {', '.join(missing)}")

    def prepare(self) -> Path:
        """Check the inputs, join the initrds, create empty console and result files;
        returns the initrd to boot."""
        self.check_inputs()
        self.spec.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            initrd = concatenate_initrds(self.spec.initrds, self.spec.work_dir / "initrd.cpio")
        except OSError as exc:
            raise BootInputError(f"cannot join the initramfs layers: {exc}") from exc
        for path in (self.spec.console_path, self.spec.result_path):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
        return initrd

    @contextmanager
    def following(self) -> Iterator[None]:
        """Stream the console to spec.on_console while the body runs."""
        follower = ConsoleFollower(self.spec.console_path, self.spec.on_console)
        follower.start()
        try:
            yield
        finally:
            follower.stop()

    def console_tail(self) -> bytes:
        return file_tail(self.spec.console_path, CONSOLE_TAIL_BYTES)

    def result(self, kind: ExitKind, why: str, detail: list[str], console: Optional[bytes] = None) -> BootResult:
        """The BootResult of a guest that ran: `why` first in the detail, then the rest."""
        wall = time.monotonic() - self.start
        tail = self.console_tail() if console is None else console
        stream = self.spec.result_path.read_bytes()
        return BootResult(kind, wall, tail, stream, "; ".join([why, *detail]), self.engine, why)

    def error(self, why: str, detail: Optional[list[str]] = None) -> BootResult:
        """The BootResult of a boot the engine could not start."""
        return BootResult(ExitKind.ENGINE_ERROR, time.monotonic() - self.start, b"", b"",
                          "; ".join([why, *(detail or [])]), self.engine, why)
