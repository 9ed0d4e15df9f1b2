"""What grouped workers share, created in the parent before the fork: pipe or eventfd pairs,
MAP_SHARED areas for futex words, and a process-shared POSIX semaphore (glibc's: an atomic
fast path, FUTEX_WAIT on contention, FUTEX_WAKE(1) on release, like the original's mutex)."""

from __future__ import annotations

import ctypes
import enum
import mmap
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # types.py's records name a LinkKind, so it imports this module
    from ktstr.workload.types import WorkloadConfig

# A shared area: u32 word at 0 (turn / generation), u64 CLOCK_MONOTONIC stamp (ns) at 8,
# a sem_t (32 bytes on x86_64) at 64.
AREA_BYTES = 4096
SEM_OFFSET = 64

_libc = ctypes.CDLL(None, use_errno=True)


class LinkKind(enum.Enum):
    """What a work type's grouped workers share (a WorkTypeSpec field); it also sets the
    group size: a pair, a messenger and fan_out receivers, or `contenders` workers."""

    NONE = "none"        # each worker on its own
    PIPE = "pipe"        # a pair, a pipe each way
    EVENTFD = "eventfd"  # a pair, an eventfd each way
    FUTEX = "futex"      # a pair sharing a turn word
    FANOUT = "fanout"    # a messenger and its receivers sharing a generation word
    MUTEX = "mutex"      # contenders sharing a process-shared semaphore


@dataclass
class Link:
    """One worker's end of its group: role (0 = the pair's first side, the messenger),
    pipe/eventfd ends, the shared area."""

    kind: LinkKind
    role: int = 0
    read_fd: int = -1
    write_fd: int = -1
    shared: Optional[mmap.mmap] = None

    def close_in_parent(self) -> None:
        """After fork the parent keeps no ends: a child waiting on a pipe must see EOF when
        its partner dies, not hang on the parent's copy."""
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass


def make_links(cfg: WorkloadConfig) -> dict[int, Link]:
    kind, size = cfg.work_type.spec.link, cfg.group_size
    links: dict[int, Link] = {}
    if kind is LinkKind.NONE:
        return links
    for first in range(0, cfg.num_workers, size):
        if kind is LinkKind.PIPE:
            a_r, b_w = os.pipe()
            b_r, a_w = os.pipe()
            links[first] = Link(kind, 0, a_r, a_w)
            links[first + 1] = Link(kind, 1, b_r, b_w)
        elif kind is LinkKind.EVENTFD:
            to_a, to_b = os.eventfd(0), os.eventfd(0)
            links[first] = Link(kind, 0, to_a, to_b)
            links[first + 1] = Link(kind, 1, to_b, to_a)
        else:
            shared = mmap.mmap(-1, AREA_BYTES)  # anonymous MAP_SHARED: the group's children see it
            if kind is LinkKind.MUTEX:
                sem = ctypes.c_void_p.from_buffer(shared, SEM_OFFSET)
                if _libc.sem_init(ctypes.byref(sem), 1, 1) != 0:
                    raise OSError(ctypes.get_errno(), "sem_init (process-shared) failed")
                del sem
            for role in range(size):
                links[first + role] = Link(kind, role, shared=shared)
    return links
