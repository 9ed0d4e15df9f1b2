"""The part of a boot every engine shares: check the inputs, join the initrd layers, create
the console and result files, follow the console while the guest runs, read the tails back.

    io = BootIO(self.name, spec)
    try:
        initrd = io.prepare()            # BootInputError naming what is wrong
    except BootInputError as exc:
        return io.error(str(exc))
    with io.following() as pipes:
        ...launch, the guest's COM1 and COM2 writing into pipes.console and pipes.results...
    return io.result(kind, why, detail)

The engine never writes the guest's files itself: COM1 goes into a pipe whose every byte the
follower scans and then writes to the console file through CappedLog (a head and a rotating
tail), COM2 into another that it writes to the result file up to RESULT_STREAM_CAP, so a
guest that prints or sends without end costs the disk bounded files.
"""

from __future__ import annotations

import os
import select
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from ktstr.errors import KtstrError
from ktstr.host.console_scan import ConsoleScan, ConsoleScanner
from ktstr.host.engines.base import BootResult, BootSpec, ExitKind
from ktstr.wire.bounds import CONSOLE_FILE_HEAD, CONSOLE_FILE_TAIL, CONSOLE_TAIL_BYTES, RESULT_STREAM_CAP


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


class CappedLog:
    """A log file that keeps its first `head` bytes and a rotating tail: appended as is while
    the tail is under 2 x `tail`; past that, only its last `tail` bytes stay, after one line
    in the gap that says how many bytes were elided so far. The file never exceeds
    head + 2 x tail + that line, whatever was written."""

    def __init__(self, path: Path, head: int = CONSOLE_FILE_HEAD, tail: int = CONSOLE_FILE_TAIL) -> None:
        self.head, self.tail = head, tail
        self.elided = 0
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        self._head_len = 0  # bytes of the head in the file
        self._gap_len = 0  # bytes of the elision line after it (0 until something is elided)
        self._tail_len = 0  # bytes of the tail after that

    def write(self, data: bytes) -> None:
        if self._head_len < self.head:
            take = data[: self.head - self._head_len]
            os.write(self._fd, take)
            self._head_len += len(take)
            data = data[len(take):]
        if not data:
            return
        if self._tail_len + len(data) <= 2 * self.tail:
            os.write(self._fd, data)
            self._tail_len += len(data)
            return
        # Rotate: the last `tail` bytes of (tail so far + data) stay, the rest is counted.
        need = min(self._tail_len, max(0, self.tail - len(data)))
        old = os.pread(self._fd, need, self._head_len + self._gap_len + self._tail_len - need) if need else b""
        kept = old + data[-self.tail:]
        self.elided += self._tail_len + len(data) - len(kept)
        gap = (f"\n[ktstr: {self.elided} bytes of console elided here; the host scanned every byte, "
               f"this file keeps the first {self.head} and the last {self.tail} to {2 * self.tail}]\n").encode()
        os.ftruncate(self._fd, self._head_len)
        os.pwrite(self._fd, gap + kept, self._head_len)
        os.lseek(self._fd, 0, os.SEEK_END)
        self._gap_len, self._tail_len = len(gap), len(kept)

    def close(self) -> None:
        os.close(self._fd)


@dataclass(frozen=True)
class GuestPipes:
    """The write ends an engine hands its guest's serial ports (a child inherits them
    through pass_fds; QEMU opens /proc/self/fd/N): COM1, the console, and COM2, the result
    stream. The host alone writes the files, capped."""

    console: int
    results: int

    def pass_fds(self) -> tuple[int, int]:
        return (self.console, self.results)


class ConsoleFollower:
    """Reads the guest's COM1 and COM2 from pipes while the guest runs: every console byte
    goes through the streaming scanner (and the terminal callback) and into the capped console
    file; the result stream goes to its file up to RESULT_STREAM_CAP (the rest counted). Each
    time the stream has grown, the console offsets before and after are noted, so frames
    delimit the console by when they arrived (BootResult.stream_clock)."""

    POLL_S = 0.02
    MAX_CLOCK = 200_000  # one entry per poll that saw the stream grow

    def __init__(self, path: Path, callback: Optional[Callable[[bytes], None]],
                 result_path: Optional[Path] = None) -> None:
        self.callback = callback
        self.scanner = ConsoleScanner()
        self.clock: list[tuple[int, int, int]] = []
        self.stream_total = 0  # result stream bytes the guest wrote (the file keeps the cap)
        self.write_error = ""  # the first write to a file that failed (then no more writes)
        self._stream_seen = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        # Both ends close-on-exec; the engine passes the write ends on.
        self._console_r, console_w = os.pipe()
        self._results_r, results_w = os.pipe()
        self.pipes: Optional[GuestPipes] = GuestPipes(console_w, results_w)
        self._poll = select.poll()
        for fd in (self._console_r, self._results_r):
            os.set_blocking(fd, False)
            self._poll.register(fd, select.POLLIN)
        self.log = CappedLog(path)
        self._results_fd = (os.open(result_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
                            if result_path is not None else -1)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def close_writers(self) -> None:
        """The engine is done with the pipes: once its guest is gone too, the follower reads EOF."""
        if self.pipes is not None:
            os.close(self.pipes.console)
            os.close(self.pipes.results)
            self.pipes = None

    def stop(self) -> ConsoleScan:
        self.close_writers()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for fd in (self._console_r, self._results_r, self._results_fd):
            if fd >= 0:
                os.close(fd)
        self.log.close()
        return self.scanner.finish()

    def _drain(self, fd: int, sink: Callable[[bytes], None]) -> int:
        """Read what the pipe holds into `sink`: the bytes read (0 also at end of file)."""
        got = 0
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return got
            if not chunk:
                return got
            got += len(chunk)
            sink(chunk)

    def _console(self, chunk: bytes) -> None:
        self.scanner.feed(chunk)
        if not self.write_error:
            try:
                self.log.write(chunk)
            except OSError as exc:  # a full disk: the scan goes on, the guest never blocks
                self.write_error = f"the host could not write the console file: {exc}"
        if self.callback is not None:
            self.callback(chunk)

    def _results(self, chunk: bytes) -> None:
        room = RESULT_STREAM_CAP - self.stream_total
        if room > 0 and self._results_fd >= 0 and not self.write_error:
            try:
                os.write(self._results_fd, chunk[:room])
            except OSError as exc:
                self.write_error = f"the host could not write the result stream's file: {exc}"
        self.stream_total += len(chunk)

    def _follow(self) -> None:
        while True:
            stopping = self._stop.is_set()
            before = self.scanner.offset
            # The stream first, then the console up to now: a frame read here arrived
            # between `before` and the console offset after the drain.
            got = self._drain(self._results_r, self._results)
            got += self._drain(self._console_r, self._console)
            if self.stream_total > self._stream_seen and len(self.clock) < self.MAX_CLOCK:
                self.clock.append((self.stream_total, before, self.scanner.offset))
                self._stream_seen = self.stream_total
            # Stopping: the engine's guest is gone, so the pipes hold all there is; a child
            # that kept a copy of a writer cannot hold the follower past one empty read.
            if stopping and not got:
                return
            if stopping:
                continue
            self._poll.poll(self.POLL_S * 1000)


class BootIO:
    """The files of one boot and its clock, for the engine running it."""

    def __init__(self, engine: str, spec: BootSpec) -> None:
        self.engine = engine
        self.spec = spec
        self.start = time.monotonic()
        self._scan: Optional[ConsoleScan] = None
        self._clock: list[tuple[int, int, int]] = []
        self._stream_total = 0
        self._write_error = ""

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
    def following(self) -> Iterator[GuestPipes]:
        """While the body runs, the pipes of the guest's COM1 and COM2 (for the engine to hand
        on) are followed: the console scanned, streamed to spec.on_console and written to
        spec.console_path, the result stream to spec.result_path, both capped."""
        follower = ConsoleFollower(self.spec.console_path, self.spec.on_console, self.spec.result_path)
        follower.start()
        try:
            assert follower.pipes is not None
            yield follower.pipes
        finally:
            self._scan = follower.stop()
            self._clock = follower.clock
            self._stream_total = follower.stream_total
            self._write_error = follower.write_error

    def console_tail(self) -> bytes:
        return file_tail(self.spec.console_path, CONSOLE_TAIL_BYTES)

    def result(self, kind: ExitKind, why: str, detail: list[str], console: Optional[bytes] = None) -> BootResult:
        """The BootResult of a guest that ran: `why` first in the detail, then the rest."""
        wall = time.monotonic() - self.start
        tail = self.console_tail() if console is None else console
        stream, elided = read_capped(self.spec.result_path, RESULT_STREAM_CAP)
        elided = max(elided, self._stream_total - len(stream))  # what the follower did not keep
        if self._write_error:
            detail = [*detail, self._write_error]
        return BootResult(kind, wall, tail, stream, "; ".join([why, *detail]), self.engine, why,
                          console_scan=self._scan, stream_clock=self._clock, result_stream_elided=elided)

    def error(self, why: str, detail: Optional[list[str]] = None) -> BootResult:
        """The BootResult of a boot the engine could not start."""
        return BootResult(ExitKind.ENGINE_ERROR, time.monotonic() - self.start, b"", b"",
                          "; ".join([why, *(detail or [])]), self.engine, why)
