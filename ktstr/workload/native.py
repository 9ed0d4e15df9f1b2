"""The workers' native hot loops (native/hot.c, libktstr_hot.so) through ctypes, with
pure-Python fallbacks when the library is not there (a plain checkout without a build).
`IMPL` says which ("native" or "python"): a worker's report records it as `hot_loop` once one
of its hot loops has run, so a test can refuse a silent fallback to Python."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Optional

# The guest has it in /opt/ktstr/lib (//initramfs:base); a Bazel test in its runfiles;
# a plain checkout in bazel-bin after `bazel build //native:libktstr_hot.so`.
_CANDIDATES = ("/opt/ktstr/lib/libktstr_hot.so", "native/libktstr_hot.so", "bazel-bin/native/libktstr_hot.so")


def _load() -> Optional[ctypes.CDLL]:
    paths = [os.environ["KTSTR_HOT_LIB"]] if os.environ.get("KTSTR_HOT_LIB") else list(_CANDIDATES)
    for p in paths:
        if Path(p).exists():
            lib = ctypes.CDLL(str(Path(p).resolve()))
            lib.ktstr_spin.argtypes = [ctypes.c_uint64]
            lib.ktstr_spin.restype = ctypes.c_uint64
            lib.ktstr_cache_pass.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
            lib.ktstr_cache_pass.restype = None
            lib.ktstr_matmul.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_size_t]
            lib.ktstr_matmul.restype = None
            return lib
    return None


_lib = _load()
AVAILABLE = _lib is not None
NATIVE, PYTHON = "native", "python"
IMPL = NATIVE if AVAILABLE else PYTHON


def spin(n: int) -> None:
    if _lib is not None:
        _lib.ktstr_spin(n)
    else:
        for _ in range(n):
            pass


class CacheBuffer:
    """A per-worker buffer; pass() is one strided read-modify-write over it."""

    def __init__(self, size: int, stride: int) -> None:
        self.buf = bytearray(size)
        self.stride = stride
        self._c = (ctypes.c_uint8 * size).from_buffer(self.buf)

    def pass_(self) -> int:
        """Returns the number of lines touched (work units)."""
        if _lib is not None:
            _lib.ktstr_cache_pass(ctypes.addressof(self._c), len(self.buf), self.stride)
        else:
            buf = self.buf
            for off in range(0, len(buf), self.stride):
                buf[off] = (buf[off] + 1) & 0xFF
        return len(self.buf) // self.stride


class Matrices:
    """Three n x n u64 matrices; multiply() is c = a x b, naive O(n^3)."""

    def __init__(self, n: int) -> None:
        self.n = n
        arr = ctypes.c_uint64 * (n * n)
        self.a, self.b, self.c = arr(), arr(), arr()
        for i in range(n * n):
            self.a[i], self.b[i] = i % 7, i % 5

    def multiply(self) -> int:
        n = self.n
        if _lib is not None:
            _lib.ktstr_matmul(self.a, self.b, self.c, n)
        else:
            a, b, c = self.a, self.b, self.c
            for i in range(n):
                for j in range(n):
                    c[i * n + j] = sum(a[i * n + k] * b[k * n + j] for k in range(n)) & 0xFFFFFFFFFFFFFFFF
        return n * n * n
