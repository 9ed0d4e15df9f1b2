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
from ktstr.host.console_scan import ConsoleScan, ConsoleScanner
from ktstr.host.engines.base import CONSOLE_TAIL_BYTES, RESULT_STREAM_CAP, BootResult, BootSpec, ExitKind


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


def read_capped(path: Path, cap: int) -> tuple[bytes, int]:
    """The first `cap` bytes of a file and how many more it holds."""
    with open(path, "rb") as f:
        data = f.read(cap)
        f.seek(0, os.SEEK_END)
        return data, max(0, f.tell() - len(data))


class ConsoleFollower:
    """Follows the console and the result stream while the guest runs: every console byte
    goes through the streaming scanner (and the terminal callback), and each time the result
    stream has grown the console offset is noted, so frames delimit the console by when
    they arrived (BootResult.stream_clock)."""

    POLL_S = 0.02
    MAX_CLOCK = 200_000  # one entry per poll that saw the stream grow

    def __init__(self, path: Path, callback: Optional[Callable[[bytes], None]],
                 result_path: Optional[Path] = None) -> None:
        self.path = path
        self.callback = callback
        self.result_path = result_path
        self.scanner = ConsoleScanner()
        self.clock: list[tuple[int, int, int]] = []
        self._stream_seen = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def stop(self) -> ConsoleScan:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.scanner.finish()

    def _follow(self) -> None:
        with open(self.path, "rb") as f:
            while True:
                stopping = self._stop.is_set()
                before = self.scanner.offset
                stream = self._stream_size()
                while True:
                    chunk = f.read(65536)
                    if not chunk:
                        break
                    self.scanner.feed(chunk)
                    if self.callback is not None:
                        self.callback(chunk)
                if stream > self._stream_seen and len(self.clock) < self.MAX_CLOCK:
                    self.clock.append((stream, before, self.scanner.offset))
                    self._stream_seen = stream
                if stopping:
                    return
                time.sleep(self.POLL_S)

    def _stream_size(self) -> int:
        if self.result_path is None:
            return 0
        try:
            return self.result_path.stat().st_size
        except OSError:
            return 0


class BootIO:
    """The files of one boot and its clock, for the engine running it."""

    def __init__(self, engine: str, spec: BootSpec) -> None:
        self.engine = engine
        self.spec = spec
        self.start = time.monotonic()
        self._scan: Optional[ConsoleScan] = None
        self._clock: list[tuple[int, int, int]] = []

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
        """Scan the console (and stream it to spec.on_console) while the body runs."""
        follower = ConsoleFollower(self.spec.console_path, self.spec.on_console, self.spec.result_path)
        follower.start()
        try:
            yield
        finally:
            self._scan = follower.stop()
            self._clock = follower.clock

    def console_tail(self) -> bytes:
        return file_tail(self.spec.console_path, CONSOLE_TAIL_BYTES)

    def result(self, kind: ExitKind, why: str, detail: list[str], console: Optional[bytes] = None) -> BootResult:
        """The BootResult of a guest that ran: `why` first in the detail, then the rest."""
        wall = time.monotonic() - self.start
        tail = self.console_tail() if console is None else console
        stream, elided = read_capped(self.spec.result_path, RESULT_STREAM_CAP)
        return BootResult(kind, wall, tail, stream, "; ".join([why, *detail]), self.engine, why,
                          console_scan=self._scan, stream_clock=self._clock, result_stream_elided=elided)

    def error(self, why: str, detail: Optional[list[str]] = None) -> BootResult:
        """The BootResult of a boot the engine could not start."""
        return BootResult(ExitKind.ENGINE_ERROR, time.monotonic() - self.start, b"", b"",
                          "; ".join([why, *(detail or [])]), self.engine, why)
