"""Read the kernel log (/dev/kmsg) and pick out sched_ext's verdict on a scheduler."""

from __future__ import annotations

import os

from ktstr.wire.marks import last_scx_exit


def mark(text: str, path: str = "/dev/kmsg") -> None:
    """Put a line of ours into the kernel log, in order with the kernel's own lines (the
    host cuts the console at these; see ktstr.wire.marks.TEST_MARK). Level 4 so it
    reaches the console at loglevel=5."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError:
        return
    try:
        os.write(fd, f"<4>{text}\n".encode())
    except OSError:
        pass
    finally:
        os.close(fd)


class KmsgReader:
    def __init__(self, path: str = "/dev/kmsg") -> None:
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            self.fd = -1
        self.lines: list[str] = []

    def poll(self) -> list[str]:
        """New lines since the last poll (message text only)."""
        new = []
        while self.fd >= 0:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except OSError:  # EPIPE: we were overrun; the next read resumes
                continue
            if not rec:
                break
            text = rec.decode(errors="replace")
            new.append(text.split(";", 1)[1].split("\n", 1)[0] if ";" in text else text.strip())
        self.lines += new
        return new


def sched_ext_exit(lines: list[str]) -> str:
    """The last sched_ext disable in `lines` as ktstr.wire.marks.ScxExit.text(), or ''.
    A clean unregistration from user space is reported too (the caller decides)."""
    last = last_scx_exit(lines)
    return last.text() if last else ""
