"""A workspace that misses ktstr's setup gets one message naming what to add or install; a
machine missing host tools or the kernel source still queries and analyses, and only what
needs the missing piece fails, naming it."""

import os
from pathlib import Path

from tests.nested_bazel import copy_checkout, path_without, run_bazel

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


def test_missing_host_tools_fail_only_the_actions_that_need_them(tmp_path):
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
    env = {"PATH": str(bindir)}
    # The repository loads whatever is missing: a build-only or non-Debian machine can query.
    proc = run_bazel(ws, tmp_path / "home", "query", "@ktstr_host_tools//:all", timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Each kind's file is an action that fails naming its own tools and packages, not the others'.
    for kind, tools, package, other in (
            ("qemu", ["qemu-system-x86_64"], "qemu-system-x86", "clang-19"),
            ("kernel", ["gcc", "pahole"], "dwarves", "qemu-system-x86_64")):
        proc = run_bazel(ws, tmp_path / "home", "build", f"@ktstr_host_tools//:{kind}.txt",
                         timeout=300, env=env)
        err = proc.stderr
        assert proc.returncode != 0, err[-3000:]
        assert "missing on this machine" in err and package in err, err[-3000:]
        assert all(t in err for t in tools) and other not in err, err[-3000:]


def test_consumer_analyses_without_qemu_or_kernel_source(tmp_path):
    """examples/consumer queries and analyses on a machine with no QEMU and no Debian (so no
    linux-source package): nothing is built, and what would need them fails by itself."""
    ktstr = copy_checkout(tmp_path / "src" / "ktstr")
    ws = ktstr / "examples" / "consumer"
    env = {"PATH": str(path_without(tmp_path, ("qemu", "dpkg")))}
    home = tmp_path / "home"
    proc = run_bazel(ws, home, "query", "//...", timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "//sched:fifo_test" in proc.stdout, proc.stdout
    proc = run_bazel(ws, home, "build", "--nobuild", "//...", timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    # Building the kernel source now fails at its action, naming the fix.
    proc = run_bazel(ws, home, "build", "@linux_6_12//:source", timeout=300, env=env)
    assert proc.returncode != 0
    assert "needs a Debian host (no dpkg-query on PATH)" in proc.stderr, proc.stderr[-3000:]


def test_a_scheduler_compiled_for_another_kernel_line_is_refused_at_analysis(tmp_path):
    """ktstr's schedulers are compiled against Linux 6.12's vmlinux.h: a test that boots a 6.13
    kernel with one is refused before anything builds, naming the toolchain to give."""
    ws = consumer(tmp_path, 'load("@ktstr//rules:repositories.bzl", "ktstr_dependencies")\n'
                            "ktstr_dependencies()\n")
    (ws / "sched" / "linux-6.13.tar.xz").write_bytes(b"")
    (ws / "sched" / "BUILD.bazel").write_text(
        BUILD + 'load("@ktstr//rules:defs.bzl", "ktstr_kernel")\n'
        'ktstr_kernel(name = "k613", source = "linux-6.13.tar.xz", version = "6.13.0")\n'
        'ktstr_test(name = "on_613", srcs = ["t.py"], kernel = ":k613", initramfs = ["@ktstr//initramfs:base"],\n'
        '           scheduler = "@ktstr//schedulers:scx_ktstr")\n'
        'ktstr_test(name = "on_612", srcs = ["t.py"], kernel = "@ktstr//kernels:debug",\n'
        '           initramfs = ["@ktstr//initramfs:base"], scheduler = "@ktstr//schedulers:scx_ktstr")\n')
    proc = run_bazel(ws, tmp_path / "home", "build", "--nobuild", "//sched:on_613", timeout=600)
    assert proc.returncode != 0, proc.stderr[-3000:]
    assert "was compiled against Linux 6.12" in proc.stderr and "Linux 6.13.0" in proc.stderr, proc.stderr[-3000:]
    assert "ktstr_sched_ext_toolchain" in proc.stderr, proc.stderr[-3000:]
    # Another build of the same line (the debug kernel) is the same line: CO-RE relocates it.
    proc = run_bazel(ws, tmp_path / "home", "build", "--nobuild", "//sched:on_612", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
