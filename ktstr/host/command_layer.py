"""A self-contained initramfs layer that runs one program as the guest's payload.

Used for payloads that are not Python scenarios, e.g. the upstream sched_ext selftests
runner: busybox for a shell, the program with its shared-library closure (read from its
ELF headers on the host, whose libraries the guest then shares), and an /init that mounts the kernel
filesystems, runs the program with its output on the console, and powers off.
"""

from __future__ import annotations

import shlex
import stat
from pathlib import Path
from typing import Sequence

from ktstr.errors import KtstrError
from ktstr.host.run_layer import HostPath, LayerFile, library_files

BUSYBOX_CANDIDATES = (Path("/bin/busybox"), Path("/usr/bin/busybox"))
APPLETS = ("sh", "mount", "mkdir", "echo", "cat", "poweroff", "sleep")
PROGRAM_DIR = "ktstr/bin"


class CommandLayerError(KtstrError, RuntimeError):
    pass


def find_busybox() -> Path:
    for p in BUSYBOX_CANDIDATES:
        if p.is_file():
            return p
    raise CommandLayerError("busybox not found at /bin/busybox: install busybox-static (./bazelw does, from "
                            "tools/debian-packages.txt)")


def init_script(argv: Sequence[str]) -> str:
    cmd = " ".join(shlex.quote(a) for a in argv)
    return f"""#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mkdir -p /tmp
cd /tmp
echo "ktstr: running {cmd}"
{cmd} > /dev/console 2>&1
echo "ktstr: exit status $?"
poweroff -f
"""


def command_layer(binary: Path, args: Sequence[str]) -> list[LayerFile | HostPath]:
    busybox = find_busybox()
    guest_binary = f"{PROGRAM_DIR}/{binary.name}"
    files = [
        LayerFile("init", init_script(["/" + guest_binary, *args]).encode(), 0o755),
        LayerFile("bin/busybox", busybox.read_bytes(), 0o755),
        LayerFile(guest_binary, binary.read_bytes(), 0o755),
        LayerFile("dev/console", b"", stat.S_IFCHR | 0o600, (5, 1)),
    ]
    files += [LayerFile(f"bin/{a}", b"busybox", stat.S_IFLNK | 0o777) for a in APPLETS]
    for d in ("proc", "sys", "tmp"):
        files.append(LayerFile(f"{d}/.keep", b""))
    return files + library_files([binary])
