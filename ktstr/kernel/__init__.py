"""Kernel configuration (kconfig merge/verify), builds and the kernel cache outside Bazel."""
