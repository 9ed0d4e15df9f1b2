"""Thin wrappers over the syscalls the agent needs (mount, reboot, sync) via ctypes."""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)

MOUNTS = [  # (source, target, fstype, options)
    ("proc", "/proc", "proc", ""),
    ("sysfs", "/sys", "sysfs", ""),
    ("devtmpfs", "/dev", "devtmpfs", ""),
    ("tmpfs", "/tmp", "tmpfs", ""),
    ("tmpfs", "/run", "tmpfs", ""),
    ("cgroup2", "/sys/fs/cgroup", "cgroup2", ""),
    ("tracefs", "/sys/kernel/tracing", "tracefs", ""),
    ("debugfs", "/sys/kernel/debug", "debugfs", ""),
]

RB_POWER_OFF = 0x4321FEDC


def mount(source: str, target: str, fstype: str, options: str = "") -> None:
    os.makedirs(target, exist_ok=True)
    if _libc.mount(source.encode(), target.encode(), fstype.encode(), 0,
                   options.encode() if options else None) != 0:
        err = ctypes.get_errno()
        if err != 16:  # EBUSY: already mounted
            raise OSError(err, f"mount {fstype} on {target}: {os.strerror(err)}")


def mount_all() -> list[str]:
    """Mount what tests need; returns problems (a missing tracefs is not fatal)."""
    problems = []
    for src, target, fstype, opts in MOUNTS:
        try:
            mount(src, target, fstype, opts)
        except OSError as exc:
            problems.append(str(exc))
    return problems


def power_off() -> None:
    _libc.sync()
    _libc.reboot(RB_POWER_OFF)
    os._exit(0)  # not reached when reboot() works
