"""Loads BPF programs through libc's syscall() (as libbpf does), for the shim's test.

usage: bpf_load_probe.py good|bad|own_log   -> prints "fd=<n> errno=<e>"
"""

import ctypes
import struct
import sys

BPF_PROG_LOAD = 5
NR_BPF = 321  # x86_64
SOCKET_FILTER = 1

MOV_R0_0 = struct.pack("<BBhi", 0xB7, 0, 0, 0)
EXIT = struct.pack("<BBhi", 0x95, 0, 0, 0)


def load(insns: bytes, name: bytes, log_level: int = 0) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    code = ctypes.create_string_buffer(insns)
    lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(65536)
    attr = ctypes.create_string_buffer(128)
    struct.pack_into("<IIQQIIQII16s", attr, 0, SOCKET_FILTER, len(insns) // 8, ctypes.addressof(code),
                     ctypes.addressof(lic), log_level, len(log) if log_level else 0,
                     ctypes.addressof(log) if log_level else 0, 0, 0, name)
    fd = libc.syscall(NR_BPF, BPF_PROG_LOAD, attr, 128)
    print(f"fd={fd} errno={ctypes.get_errno() if fd < 0 else 0}", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "good":
        load(MOV_R0_0 + EXIT, b"ktstr_good")
    elif mode == "bad":
        load(MOV_R0_0, b"ktstr_bad")  # no exit: "last insn is not an exit or jmp"
    elif mode == "own_log":
        load(MOV_R0_0 + EXIT, b"ktstr_own", log_level=1)
