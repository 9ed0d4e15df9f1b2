"""For tests that run a real Bazel of their own (remote cache, repository rules)."""

import glob
import os
import shutil

import pytest


def real_bazel() -> str:
    """The Bazel binary itself (Debian's /usr/bin/bazel-4...), not the tools/bazel wrapper."""
    for candidate in sorted(glob.glob("/usr/bin/bazel-[0-9]*")) + [shutil.which("bazel") or ""]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("no Bazel binary found (tools/bazel installs bazel-bootstrap)")
