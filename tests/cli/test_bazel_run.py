"""`bazel run @ktstr//:ktstr`: relative paths are the caller's, and the VM inputs default to
the build's (ktstr.cli.bazel_run)."""

from pathlib import Path

import pytest

from ktstr.cli import bazel_run
from ktstr.cli.bazel_run import MissingInputError, initramfs_or_default, kernel_or_default
from ktstr.cli.main import main

SRC = '''
from ktstr.scenario import ktstr_test

@ktstr_test
def alpha(ctx): ...
'''


def test_relative_sources_resolve_against_build_working_directory(tmp_path, monkeypatch, capsys):
    user = tmp_path / "user" / "sub"
    user.mkdir(parents=True)
    (user / "t.py").write_text(SRC)
    runfiles = tmp_path / "runfiles"
    runfiles.mkdir()
    monkeypatch.chdir(runfiles)  # where `bazel run` starts the binary
    monkeypatch.setenv("BUILD_WORKING_DIRECTORY", str(user))
    assert main(["list", "t.py"]) == 0
    assert capsys.readouterr().out.splitlines() == ["t.py:alpha  topology=1n1l2c1t"]
    assert Path.cwd() == user


def test_without_build_working_directory_the_cwd_stays(tmp_path, monkeypatch, capsys):
    (tmp_path / "t.py").write_text(SRC)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BUILD_WORKING_DIRECTORY", raising=False)
    assert main(["list", "t.py"]) == 0
    assert Path.cwd() == tmp_path
    assert capsys.readouterr().out.startswith("t.py:alpha")


def test_defaults_come_from_the_runfiles_when_present(tmp_path):
    ktstr_repo = tmp_path / "ktstr"  # the runfiles: ktstr's repository and @ktstr_kernels beside it
    (tmp_path / "ktstr_kernels" / "default").mkdir(parents=True)
    (tmp_path / "ktstr_kernels" / "default" / "bzImage").write_bytes(b"k")
    (ktstr_repo / "initramfs").mkdir(parents=True)
    (ktstr_repo / "initramfs" / "base.cpio").write_bytes(b"i")
    assert kernel_or_default(None, "shell", ktstr_repo) == str(tmp_path / "ktstr_kernels/default/bzImage")
    assert initramfs_or_default(None, "shell", ktstr_repo) == [str(ktstr_repo / "initramfs/base.cpio")]
    # Given options win over the defaults.
    assert kernel_or_default("my/bzImage", "shell", ktstr_repo) == "my/bzImage"
    assert initramfs_or_default(["a.cpio", "b.cpio"], "run", ktstr_repo) == ["a.cpio", "b.cpio"]


def test_missing_defaults_name_the_option_and_the_fix(tmp_path):
    with pytest.raises(MissingInputError) as kernel:
        kernel_or_default(None, "shell", tmp_path)
    assert "no --kernel given" in str(kernel.value)
    assert "bazel run @ktstr//:ktstr -- shell" in str(kernel.value)
    assert ("--kernel bazel-bin/external/ktstr_kernels/default/bzImage after "
            "`bazel build @ktstr//kernels:default`") in str(kernel.value)
    with pytest.raises(MissingInputError) as initramfs:
        initramfs_or_default([], "run", tmp_path)
    assert "no --initramfs given" in str(initramfs.value) and "@ktstr//initramfs:base" in str(initramfs.value)


@pytest.mark.parametrize("argv", [["shell", "--exec", "true"], ["run", "t.py"],
                                  ["verifier", "--shim", "s.so", "--scheduler", "a=b"],
                                  ["selftests", "--runner", "r"]])
def test_each_vm_subcommand_without_a_kernel_says_so(argv, tmp_path, monkeypatch, capsys):
    (tmp_path / "t.py").write_text(SRC)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BUILD_WORKING_DIRECTORY", raising=False)
    monkeypatch.setattr(bazel_run, "ktstr_repo_root", lambda: tmp_path / "no-runfiles")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no --kernel given" in err and "Traceback" not in err
    assert not (tmp_path / "ktstr-out").exists()  # refused before any output directory is made
