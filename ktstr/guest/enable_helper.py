"""The CPU a scheduler's ops.init() runs on.

Linux 6.12 runs a scheduler's whole enable path, ops.init() included, on one kthread,
scx_ops_enable_helper (kernel/sched/ext.c scx_ops_enable: the loader queues the work and
waits). The kthread is created at the first enable of a boot: kthreadd forks it and kthread()
resets its affinity to every CPU, so fork and wake-up balancing place it, and the loader's own
affinity does not decide where ops.init() runs. A scheduler whose ops.init() must run on one
CPU (scx_central checks that it runs on its central CPU) declares it (SchedulerSpec.init_cpu);
before it attaches, the agent makes sure the kthread exists and pins it there. The kthread
takes sched_setaffinity (it is not kthread_bind'ed). To create it without a scheduler binary,
the agent enables and at once disables an empty scheduler: a sched_ext struct_ops map with a
name and no programs, which sched_ext runs with its defaults (one global FIFO).
"""

from __future__ import annotations

import ctypes
import os
import struct
from typing import Optional

from ktstr.errors import KtstrError

HELPER_COMM = "scx_ops_enable_helper"
BTF_PATH = "/sys/kernel/btf/vmlinux"
WARMUP_NAME = b"ktstr_init_cpu"

_SYS_BPF = 321  # x86_64
_MAP_CREATE, _MAP_UPDATE_ELEM, _MAP_DELETE_ELEM, _BTF_LOAD = 0, 2, 3, 18
_MAP_TYPE_STRUCT_OPS = 26
_ATTR_SIZE = 128  # enough of union bpf_attr for the commands used here
# A struct_ops map must name a BTF object of user space (map_create: "the bpf_prog.o must
# have BTF"), though nothing in it is used: the smallest the kernel takes, one `int`.
_INT_TYPE = struct.pack("<IIII", 1, 1 << 24, 4, 32)  # name "int", kind INT, 4 bytes, 32 bits
_STRINGS = b"\0int\0"
_EMPTY_BTF = (struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(_INT_TYPE), len(_INT_TYPE), len(_STRINGS))
              + _INT_TYPE + _STRINGS)

_BTF_STRUCT = 4
# Bytes after the 12-byte record, fixed and per member (Documentation/bpf/btf.rst).
_BTF_FIXED = {1: 4, 3: 12, 14: 4, 17: 4}
_BTF_PER_VLEN = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}


class InitCpuError(KtstrError, RuntimeError):
    """The enable kthread could not be created or pinned (the text says why)."""


def find_helper(proc: str = "/proc") -> Optional[int]:
    """The pid of the enable kthread, or None before the first enable of this boot."""
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(f"{proc}/{pid}/comm") as f:
                if f.read().strip() == HELPER_COMM:
                    return int(pid)
        except OSError:
            continue
    return None


def struct_members(btf: bytes, names: tuple[str, ...]) -> dict[str, tuple[int, int, dict[str, int]]]:
    """{struct name: (type id, size, {member: byte offset})} for `names`, in one pass over
    the type section without building every type (the guest's CPU may be emulated)."""
    _magic, _version, _flags, hdr = struct.unpack_from("<HBBI", btf, 0)
    type_off, type_len, str_off, str_len = struct.unpack_from("<IIII", btf, 8)
    types = btf[hdr + type_off: hdr + type_off + type_len]
    strings = btf[hdr + str_off: hdr + str_off + str_len]
    wanted = {}
    for name in names:
        at = strings.find(b"\0" + name.encode() + b"\0")
        if at >= 0:
            wanted[at + 1] = name
    found: dict[str, tuple[int, int, dict[str, int]]] = {}
    pos, type_id = 0, 1
    while pos + 12 <= len(types):
        name_off, info, size = struct.unpack_from("<III", types, pos)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        if kind == _BTF_STRUCT and name_off in wanted and vlen:
            members = {}
            for i in range(vlen):
                m_name, _m_type, m_off = struct.unpack_from("<III", types, pos + 12 + 12 * i)
                bits = (m_off & 0xFFFFFF) if info >> 31 else m_off
                if m_name:  # anonymous members are not looked up by name
                    members[strings[m_name:strings.index(b"\0", m_name)].decode()] = bits // 8
            found[wanted[name_off]] = (type_id, size, members)
        pos += 12 + _BTF_FIXED.get(kind, 0) + _BTF_PER_VLEN.get(kind, 0) * vlen
        type_id += 1
    return found


def _bpf(libc: ctypes.CDLL, cmd: int, attr: bytes) -> int:
    buf = ctypes.create_string_buffer(attr.ljust(_ATTR_SIZE, b"\0"), _ATTR_SIZE)
    # syscall(2) is variadic: every argument as a full long (a C int leaves the upper half
    # of the register undefined).
    ret = libc.syscall(ctypes.c_long(_SYS_BPF), ctypes.c_long(cmd), buf, ctypes.c_long(_ATTR_SIZE))
    if ret < 0:
        err = ctypes.get_errno()
        raise InitCpuError(f"bpf(cmd {cmd}) failed: {os.strerror(err)}")
    return int(ret)


def create_helper(btf_path: str = BTF_PATH) -> None:
    """Enable and disable an empty scheduler, so that the enable kthread exists."""
    try:
        with open(btf_path, "rb") as f:
            btf = f.read()
    except OSError as exc:
        raise InitCpuError(f"cannot read the kernel's BTF ({btf_path}): {exc}") from None
    found = struct_members(btf, ("bpf_struct_ops_sched_ext_ops", "sched_ext_ops"))
    if len(found) != 2 or "data" not in found["bpf_struct_ops_sched_ext_ops"][2] \
            or "name" not in found["sched_ext_ops"][2]:
        raise InitCpuError(f"no sched_ext struct_ops type in {btf_path}: is this a sched_ext kernel?")
    type_id, size, members = found["bpf_struct_ops_sched_ext_ops"]
    name_at = members["data"] + found["sched_ext_ops"][2]["name"]
    libc = ctypes.CDLL(None, use_errno=True)
    empty = ctypes.create_string_buffer(_EMPTY_BTF, len(_EMPTY_BTF))
    btf_fd = _bpf(libc, _BTF_LOAD, struct.pack("<QQI", ctypes.addressof(empty), 0, len(_EMPTY_BTF)))
    try:
        fd = _bpf(libc, _MAP_CREATE, struct.pack("<IIIIIII16sIIIII", _MAP_TYPE_STRUCT_OPS, 4, size, 1, 0, 0, 0,
                                                 WARMUP_NAME[:15], 0, btf_fd, 0, 0, type_id))
    finally:
        os.close(btf_fd)
    try:
        key = ctypes.create_string_buffer(4)
        value = bytearray(size)
        value[name_at:name_at + len(WARMUP_NAME)] = WARMUP_NAME
        buf = ctypes.create_string_buffer(bytes(value), size)
        _bpf(libc, _MAP_UPDATE_ELEM, struct.pack("<IIQQQ", fd, 0, ctypes.addressof(key), ctypes.addressof(buf), 0))
        _bpf(libc, _MAP_DELETE_ELEM, struct.pack("<IIQ", fd, 0, ctypes.addressof(key)))
    finally:
        os.close(fd)


def pin_init_cpu(cpu: int) -> Optional[str]:
    """Make the next enable run ops.init() on `cpu`; the problem in words, or None."""
    try:
        pid = find_helper()
        if pid is None:
            create_helper()
            pid = find_helper()
        if pid is None:
            return (f"init_cpu={cpu}: no {HELPER_COMM} kthread after an enable: this kernel does not "
                    f"run ops.init() on it (Linux 6.12 does); drop init_cpu for this kernel")
        os.sched_setaffinity(pid, {cpu})
    except (InitCpuError, OSError) as exc:
        return f"init_cpu={cpu}: cannot pin sched_ext's {HELPER_COMM} kthread: {exc}"
    return None


__all__ = ["HELPER_COMM", "InitCpuError", "create_helper", "find_helper", "pin_init_cpu", "struct_members"]
