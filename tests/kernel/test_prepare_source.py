"""Kernel source input: a missing or unusable source names itself and the fix."""

import pytest

from ktstr.kernel.build import KernelBuildError, prepare_source


def test_missing_source_names_the_path_and_the_debian_package(tmp_path):
    with pytest.raises(KernelBuildError) as info:
        prepare_source(tmp_path / "linux-6.12.tar.xz", tmp_path / "work")
    message = str(info.value)
    assert str(tmp_path / "linux-6.12.tar.xz") in message and "linux-source-6.12" in message


def test_a_directory_is_used_as_the_tree(tmp_path):
    (tmp_path / "Makefile").write_text("")
    (tmp_path / "Kconfig").write_text("")
    assert prepare_source(tmp_path, tmp_path / "work") == tmp_path


def test_a_directory_that_is_no_kernel_tree_is_named(tmp_path):
    with pytest.raises(KernelBuildError, match="does not look like a Linux source tree"):
        prepare_source(tmp_path, tmp_path / "work")


def test_a_file_that_is_no_tarball_is_named(tmp_path):
    (tmp_path / "kernel.zip").write_text("")
    with pytest.raises(KernelBuildError, match="neither a directory nor a tarball"):
        prepare_source(tmp_path / "kernel.zip", tmp_path / "work")
