"""Every Starlark file of the checkout is formatted as buildifier formats it and has no
lint warnings (buildifier --mode=check --lint=warn)."""

import os
import subprocess

import pytest

from tools.lint.source_tree import root

# Bazel gives the pinned binary (BUILD.bazel); plain pytest from the root has none.
BUILDIFIER = os.path.abspath(os.environ["KTSTR_BUILDIFIER"]) if os.environ.get("KTSTR_BUILDIFIER") else ""


def starlark_files() -> list[str]:
    top = root()
    proc = subprocess.run(["git", "-C", str(top), "ls-files", "--cached", "--others", "--exclude-standard",
                           "*.bzl", "*.bazel", "BUILD", "WORKSPACE", "*.bzlmod"],
                          capture_output=True, text=True)
    if proc.returncode == 0:
        files = proc.stdout.split()
    else:  # not a git checkout (an unpacked archive): every Starlark file below the root
        files = [str(p.relative_to(top)) for p in top.rglob("*")
                 if p.is_file() and not str(p.relative_to(top)).startswith("bazel-")
                 and (p.suffix in (".bzl", ".bazel", ".bzlmod") or p.name in ("BUILD", "WORKSPACE"))]
    return sorted(str(top / f) for f in files if not f.startswith("third_party/"))


def test_starlark_is_formatted_and_lint_clean():
    if not BUILDIFIER:
        pytest.skip("no buildifier outside Bazel: bazel test //tools/lint:buildifier_test")
    proc = subprocess.run([BUILDIFIER, "--mode=check", "--lint=warn", *starlark_files()],
                          capture_output=True, text=True)
    if proc.returncode == 77:
        pytest.skip(proc.stderr.strip())
    assert proc.returncode == 0, (
        "buildifier found unformatted files or lint warnings (fix with "
        f"`{BUILDIFIER} --lint=fix <files>`):\n{proc.stdout}{proc.stderr}")
