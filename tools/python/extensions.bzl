"""bzlmod (Bazel 7+) entry for the Python toolchain repository (Bazel 4 never loads this)."""

load(":configure.bzl", "ktstr_python_configure")

def _impl(_mctx):
    ktstr_python_configure(name = "ktstr_python")

ktstr_python = module_extension(implementation = _impl)
