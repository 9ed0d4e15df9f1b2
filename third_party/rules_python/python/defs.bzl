"""Offline rules_python shim: re-exports Bazel 4's native Python rules.

The names match rules_python's `python/defs.bzl`, so ktstr's BUILD and .bzl files load
everything Python from @rules_python and nothing from @bazel_tools or native (which Bazel
8+ removed); with the real rules_python (bzlmod) the same loads resolve there.
"""

load("@bazel_tools//tools/python:toolchain.bzl", _py_runtime_pair = "py_runtime_pair")

def py_binary(**kwargs):
    native.py_binary(**kwargs)

def py_library(**kwargs):
    native.py_library(**kwargs)

def py_runtime(**kwargs):
    native.py_runtime(**kwargs)

def py_test(**kwargs):
    native.py_test(**kwargs)

py_runtime_pair = _py_runtime_pair
