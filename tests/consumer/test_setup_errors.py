"""A workspace that misses ktstr's setup gets one message naming what to add or install."""

import os
from pathlib import Path

from tests.nested_bazel import copy_checkout, run_bazel

BUILD = """load("@ktstr//rules:defs.bzl", "ktstr_test")
ktstr_test(name = "t", srcs = ["t.py"], kernel = "@ktstr//kernels:default",
           initramfs = ["@ktstr//initramfs:base"])
"""


def consumer(tmp_path: Path, workspace: str) -> Path:
    ktstr = copy_checkout(tmp_path / "ktstr")
    ws = tmp_path / "ws"
    (ws / "sched").mkdir(parents=True)
    (ws / "WORKSPACE").write_text(f'local_repository(name = "ktstr", path = "{ktstr}")\n' + workspace)
    (ws / "sched" / "BUILD.bazel").write_text(BUILD)
    (ws / "sched" / "t.py").write_text("")
    return ws


def test_forgetting_ktstr_dependencies_names_the_macro(tmp_path):
    ws = consumer(tmp_path, "")
    proc = run_bazel(ws, tmp_path / "home", "build", "--nobuild", "//sched:t", timeout=300)
    assert proc.returncode != 0
    assert "needs_ktstr_dependencies.bzl" in proc.stderr, proc.stderr[-3000:]
    assert "The repository '@rules_python' could not be resolved" in proc.stderr


def test_missing_host_tools_are_listed_with_their_packages(tmp_path):
    ws = consumer(tmp_path, 'load("@ktstr//rules:repositories.bzl", "ktstr_dependencies")\n'
                            "ktstr_dependencies()\n")
    # A PATH with Bazel's own needs only (no compilers, no QEMU, no busybox).
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("sh", "bash", "uname", "dirname", "basename"):
        for d in ("/usr/bin", "/bin"):
            if os.path.exists(f"{d}/{tool}"):
                (bindir / tool).symlink_to(f"{d}/{tool}")
                break
    proc = run_bazel(ws, tmp_path / "home", "query", "@ktstr_host_tools//:all", timeout=300,
                     env={"PATH": str(bindir)})
    assert proc.returncode != 0
    err = proc.stderr
    assert "ktstr needs these host tools, missing on this machine" in err, err[-3000:]
    for tool, package in (("clang-19", "clang-19"), ("qemu-system-x86_64", "qemu-system-x86"),
                          ("pahole", "dwarves"), ("busybox", "busybox-static")):
        assert tool in err and package in err
