"""examples/consumer_py registers a Python toolchain of its own (python/python3.sh, whose
sys.executable is the script): its own code runs on it, while ktstr's tools run on ktstr's
interpreter (@ktstr_python) and the guest image packs that one. Nothing here needs a kernel:
the kernel source is hidden (no dpkg on PATH, so @linux_6_12 loads without its 1.7 GB tree)
and the VM test is only analysed."""

import os
import subprocess

from tests.nested_bazel import copy_checkout, path_without, run_bazel

KTSTR_PYTHON = "/usr/bin/python3"  # rules/private/python_repositories.bzl's DEFAULT_PYTHON


def test_ktstr_tools_use_ktstr_python_beside_the_workspace_toolchain(tmp_path):
    ktstr = copy_checkout(tmp_path / "src" / "ktstr")
    ws = ktstr / "examples" / "consumer_py"
    home = tmp_path / "home"
    env = {"PATH": str(path_without(tmp_path, ("dpkg",)))}

    # The VM test (on ktstr's kernel) analyses; nothing of it is built.
    proc = run_bazel(ws, home, "build", "--nobuild", "//...", timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]

    proc = run_bazel(ws, home, "build", "//sched:image", "//sched:which_python", timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]

    # The workspace's toolchain is in effect for its own code (so the check below can fail).
    which = subprocess.run([str(ws / "bazel-bin" / "sched" / "which_python")], capture_output=True,
                           text=True, env={"PATH": env["PATH"]}, check=True).stdout
    assert which.strip().endswith("/python/python3.sh"), which

    # ktstr's packer ran on ktstr's interpreter: the guest's /init names it, and the
    # workspace's interpreter (a bash script) is nowhere in the image.
    image = (ws / "bazel-bin" / "sched" / "image.cpio").read_bytes()
    assert f"#!{os.path.realpath(KTSTR_PYTHON)} -S\n".encode() in image
    assert b"consumer-py-interpreter" not in image and b"python3.sh" not in image
