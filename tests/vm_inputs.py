"""Where a test finds the VM inputs its target put in the runfiles (data //kernels:default):
the CLI's own record of the default kernel (ktstr.cli.bazel_run.KERNEL: @ktstr_kernels'
directory beside ktstr's in the runfiles), so that a move is one edit.

Under Bazel a declared input that is missing fails the test (a skipped VM test would be a
check that cannot fail); a plain pytest run from the checkout takes what `bazel build` left
in bazel-bin, and the callers skip without it."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Optional

from ktstr.cli.bazel_run import KERNEL


def under_bazel() -> bool:
    return "TEST_SRCDIR" in os.environ


def default_kernel_file(name: str = "bzImage") -> Optional[Path]:
    """A file of //kernels:default (bzImage, layout.json, vmlinux, config), or None outside
    Bazel when it was not built. Under Bazel its absence is an error naming the fix."""
    file = dataclasses.replace(KERNEL, relpath=str(Path(KERNEL.relpath).parent / name))
    found = file.path()
    if found is not None:
        return found
    if file.built().is_file():
        return file.built()
    if under_bazel():
        raise FileNotFoundError(f"{name} of //kernels:default is not in this test's runfiles "
                                f"(@{KERNEL.repository}): add //kernels:default to its data")
    return None
