"""Every Starlark file of the checkout is formatted as buildifier formats it and has no
lint warnings (buildifier --mode=check --lint=warn)."""

import os
import subprocess

import pytest

from tests.nested_bazel import source_root

BUILDIFIER = os.path.abspath(os.environ["KTSTR_BUILDIFIER"])


def starlark_files() -> list[str]:
    root = source_root()
    out = subprocess.run(["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard",
                          "*.bzl", "*.bazel", "BUILD", "WORKSPACE", "*.bzlmod"],
                         capture_output=True, text=True, check=True).stdout.split()
    return [str(root / f) for f in out if not f.startswith("third_party/")]


def test_starlark_is_formatted_and_lint_clean():
    proc = subprocess.run([BUILDIFIER, "--mode=check", "--lint=warn", *starlark_files()],
                          capture_output=True, text=True)
    if proc.returncode == 77:
        pytest.skip(proc.stderr.strip())
    assert proc.returncode == 0, (
        "buildifier found unformatted files or lint warnings (fix with "
        f"`{BUILDIFIER} --lint=fix <files>`):\n{proc.stdout}{proc.stderr}")
