"""Where a test finds the VM inputs its target put in the runfiles (data //kernels:default,
//initramfs:base): one place, so that a move is one edit. ktstr's kernels live in their own
repository, @ktstr_kernels (rules/private/kernels_repository.bzl), a sibling of this one in
the runfiles.

Under Bazel a declared input that is missing fails the test (a skipped VM test would be a
check that cannot fail); a plain pytest run from the checkout takes what `bazel build` left
in bazel-bin, and the callers skip without it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

# The runfiles (the cwd of a Bazel test is this repository's runfiles directory), then a
# checkout after `bazel build //kernels:default`.
DEFAULT_KERNEL_DIRS = (Path("../ktstr_kernels/default"), Path("bazel-bin/external/ktstr_kernels/default"))


def under_bazel() -> bool:
    return "TEST_SRCDIR" in os.environ


def default_kernel_file(name: str = "bzImage") -> Optional[Path]:
    """A file of //kernels:default (bzImage, layout.json, vmlinux, config), or None outside
    Bazel when it was not built. Under Bazel its absence is an error naming the fix."""
    for d in DEFAULT_KERNEL_DIRS:
        if (d / name).is_file():
            return d / name
    if under_bazel():
        raise FileNotFoundError(f"{name} of //kernels:default is not in this test's runfiles "
                                f"({DEFAULT_KERNEL_DIRS[0] / name}): add //kernels:default to its data")
    return None
