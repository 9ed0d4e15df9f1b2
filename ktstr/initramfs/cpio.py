"""A deterministic newc ("070701") cpio writer.

Everything that could vary between two builds is fixed: entries are written sorted by path,
inode numbers follow that order, mtime is 0, uid/gid are 0 and modes are explicit. Parent
directories are implied by the files added. Device nodes are created inside the archive, so
/dev/console exists before the guest mounts devtmpfs (init needs it for its stdout).

The kernel accepts several archives concatenated: a large base image built once plus small
per-test layers (see ktstr.host.run_layer).
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Union

from ktstr.errors import KtstrError

COMPRESSIONS = ("none", "gzip", "zstd", "lz4")
_TRAILER = "TRAILER!!!"
_COPY_CHUNK = 1 << 20


class CpioError(KtstrError, ValueError):
    """A bad entry: the message names the path and what to change."""


@dataclass(frozen=True)
class CpioEntry:
    path: str  # archive path, no leading slash
    mode: int  # full st_mode (type bits + permissions)
    data: bytes = b""  # file contents (regular files given as bytes) or symlink target
    source: str = ""  # host file to copy (regular files given by path)
    rdev: tuple[int, int] = (0, 0)

    @property
    def size(self) -> int:
        if self.source:
            return os.stat(self.source).st_size
        return len(self.data)


def normalize(dest: str) -> str:
    """'/usr/bin/x' -> 'usr/bin/x'; rejects empty, '..' and absolute escapes."""
    p = PurePosixPath("/" + dest.lstrip("/"))
    parts = [x for x in p.parts[1:] if x not in ("", ".")]
    if not parts:
        raise CpioError(f"initramfs path {dest!r} is empty; give a path like /usr/bin/tool")
    if ".." in parts:
        raise CpioError(f"initramfs path {dest!r} contains '..'; give a plain absolute path")
    return "/".join(parts)


class Archive:
    """Collects entries, then writes them sorted. Adding the same path twice with different
    content is an error (it would depend on order); adding it identically is a no-op."""

    def __init__(self) -> None:
        self._entries: dict[str, CpioEntry] = {}

    def __contains__(self, dest: str) -> bool:
        return normalize(dest) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def paths(self) -> list[str]:
        return sorted(self._entries)

    def _put(self, entry: CpioEntry) -> None:
        self._imply_parents(entry.path)
        old = self._entries.get(entry.path)
        if old is not None and old != entry:
            if stat.S_ISDIR(old.mode) and stat.S_ISDIR(entry.mode):
                self._entries[entry.path] = entry  # an explicit mode wins over an implied one
                return
            raise CpioError(f"initramfs path /{entry.path} added twice with different content "
                            f"({_describe(old)} vs {_describe(entry)}); keep one of them")
        self._entries[entry.path] = entry

    def _imply_parents(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            existing = self._entries.get(parent)
            if existing is None:
                self._entries[parent] = CpioEntry(parent, stat.S_IFDIR | 0o755)
            elif not stat.S_ISDIR(existing.mode):
                raise CpioError(f"initramfs path /{parent} is a {_describe(existing)} but "
                                f"/{path} needs it to be a directory")

    def add_dir(self, dest: str, mode: int = 0o755) -> None:
        self._put(CpioEntry(normalize(dest), stat.S_IFDIR | (mode & 0o7777)))

    def add_bytes(self, dest: str, data: Union[bytes, str], mode: int = 0o644) -> None:
        if isinstance(data, str):
            data = data.encode()
        self._put(CpioEntry(normalize(dest), stat.S_IFREG | (mode & 0o7777), data=data))

    def add_file(self, dest: str, source: Union[str, Path], mode: int | None = None) -> None:
        """A host file; its mode is kept (without setuid bits) unless `mode` is given."""
        source = str(source)
        try:
            st = os.stat(source)
        except OSError as exc:
            raise CpioError(f"initramfs source {source} for /{normalize(dest)}: {exc.strerror}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise CpioError(f"initramfs source {source} for /{normalize(dest)} is not a regular file")
        perm = (st.st_mode & 0o755) if mode is None else (mode & 0o7777)
        self._put(CpioEntry(normalize(dest), stat.S_IFREG | perm, source=source))

    def add_symlink(self, dest: str, target: str) -> None:
        self._put(CpioEntry(normalize(dest), stat.S_IFLNK | 0o777, data=target.encode()))

    def add_char_device(self, dest: str, major: int, minor: int, mode: int = 0o600) -> None:
        self._put(CpioEntry(normalize(dest), stat.S_IFCHR | (mode & 0o7777), rdev=(major, minor)))

    def add_standard_devices(self) -> None:
        """/dev/console and /dev/null: init's stdio before devtmpfs is mounted."""
        self.add_char_device("/dev/console", 5, 1, 0o600)
        self.add_char_device("/dev/null", 1, 3, 0o666)

    def add_host_path(self, path: str) -> str:
        """Add a host file at the same path, reproducing symlinks along the way (so
        /lib64/ld-linux-x86-64.so.2 works in the guest as on the host). Returns the real
        path of the file that was added."""
        current = PurePosixPath("/")
        remaining = list(PurePosixPath(os.path.abspath(path)).parts[1:])
        hops = 0
        while remaining:
            current = current / remaining.pop(0)
            if os.path.islink(current):
                hops += 1
                if hops > 40:
                    raise CpioError(f"too many symlinks resolving {path}")
                target = os.readlink(current)
                self.add_symlink(str(current), target)
                resolved = PurePosixPath(os.path.normpath(current.parent / target))
                remaining = list(resolved.parts[1:]) + remaining
                current = PurePosixPath("/")
        self.add_file(str(current), str(current))
        return str(current)

    def write(self, out: Union[str, Path], compression: str = "none") -> None:
        if compression not in COMPRESSIONS:
            raise CpioError(f"unknown initramfs compression {compression!r}; use one of "
                            f"{', '.join(COMPRESSIONS)}")
        out = Path(out)
        if compression == "none":
            with open(out, "wb") as f:
                self.write_to(f)
        elif compression == "gzip":
            # mtime=0 and no file name in the header: identical bytes every time.
            with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                      mtime=0, compresslevel=6) as gz:
                self.write_to(gz)
        else:
            tool = {"zstd": ["zstd", "-q", "-19", "-T2", "-c"],
                    "lz4": ["lz4", "-q", "-l", "-9", "-c"]}[compression]  # -l: legacy frames
            if shutil.which(tool[0]) is None:
                raise CpioError(f"initramfs compression {compression} needs the `{tool[0]}` "
                                f"command (Debian package {tool[0]})")
            with open(out, "wb") as f:
                proc = subprocess.Popen(tool, stdin=subprocess.PIPE, stdout=f)
                assert proc.stdin is not None
                self.write_to(proc.stdin)
                proc.stdin.close()
                if proc.wait() != 0:
                    raise CpioError(f"{tool[0]} failed compressing {out}")

    def write_to(self, f: BinaryIO) -> None:
        ino = 1
        for path in sorted(self._entries):
            entry = self._entries[path]
            _write_entry(f, ino, entry)
            ino += 1
        _write_header(f, 0, CpioEntry(_TRAILER, 0), 0)


def _describe(e: CpioEntry) -> str:
    if stat.S_ISDIR(e.mode):
        return "directory"
    if stat.S_ISLNK(e.mode):
        return f"symlink to {e.data.decode()}"
    if stat.S_ISCHR(e.mode):
        return f"char device {e.rdev[0]}:{e.rdev[1]}"
    return f"file from {e.source}" if e.source else f"file of {len(e.data)} bytes"


def _pad(f: BinaryIO, n: int) -> None:
    if n % 4:
        f.write(b"\0" * (4 - n % 4))


def _write_header(f: BinaryIO, ino: int, entry: CpioEntry, size: int) -> None:
    name = entry.path.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(entry.mode) else 1
    fields = (ino, entry.mode, 0, 0, nlink, 0, size, 0, 0, entry.rdev[0], entry.rdev[1],
              len(name), 0)
    header = b"070701" + b"".join(b"%08X" % v for v in fields)
    f.write(header)
    f.write(name)
    _pad(f, len(header) + len(name))


def _write_entry(f: BinaryIO, ino: int, entry: CpioEntry) -> None:
    if entry.source:
        size = os.stat(entry.source).st_size
        _write_header(f, ino, entry, size)
        with open(entry.source, "rb") as src:
            copied = 0
            while True:
                chunk = src.read(_COPY_CHUNK)
                if not chunk:
                    break
                f.write(chunk)
                copied += len(chunk)
        if copied != size:
            raise CpioError(f"initramfs source {entry.source} changed size while packing")
    else:
        size = len(entry.data)
        _write_header(f, ino, entry, size)
        f.write(entry.data)
    _pad(f, size)


def read_entries(data: bytes) -> list[tuple[str, int, bytes, tuple[int, int]]]:
    """Parse a newc archive (possibly several concatenated): (path, mode, data, rdev) per
    entry, trailers skipped. For tests and for inspecting images."""
    out = []
    pos = 0
    while pos + 110 <= len(data):
        if data[pos:pos + 6] != b"070701":
            if data[pos:pos + 1] == b"\0":  # padding between concatenated archives
                pos += 1
                continue
            raise CpioError(f"bad cpio magic at offset {pos}")
        fields = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, rmaj, rmin, namesize = fields[1], fields[6], fields[9], fields[10], fields[11]
        name_start = pos + 110
        name = data[name_start:name_start + namesize - 1].decode()
        body = name_start + namesize
        body += (-body) % 4
        content = data[body:body + size]
        pos = body + size
        pos += (-pos) % 4
        if name != _TRAILER:
            out.append((name, mode, content, (rmaj, rmin)))
    return out
