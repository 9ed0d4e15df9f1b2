"""ELF closure with pyelftools: interpreter, DT_NEEDED, RUNPATH, missing-library errors."""

import os
import shutil
import subprocess
import sys

import pytest

from ktstr.initramfs.closure import ClosureError, closure, read_elf


def test_python_interpreter_closure_has_loader_and_libc():
    libs = closure([os.path.realpath(sys.executable)])
    names = {os.path.basename(p) for p in libs}
    assert "ld-linux-x86-64.so.2" in names
    assert "libc.so.6" in names
    assert all(os.path.exists(p) for p in libs)


def test_static_binary_needs_nothing():
    busybox = "/bin/busybox"
    if not os.path.exists(busybox):
        pytest.skip("busybox-static is not installed (tools/debian-packages.txt has it)")
    info = read_elf(busybox)
    assert info is not None and info.interp is None and info.needed == []
    assert closure([busybox]) == []


def test_non_elf_files_contribute_nothing(tmp_path):
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\n")
    assert closure([str(script)]) == []


def _build(tmp_path, cc):
    (tmp_path / "lib.c").write_text("int ktstr_answer(void) { return 42; }\n")
    (tmp_path / "main.c").write_text("int ktstr_answer(void);\nint main(void) { return ktstr_answer(); }\n")
    libdir = tmp_path / "libs"
    libdir.mkdir()
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(libdir / "libktstrprobe.so"), str(tmp_path / "lib.c")],
                   check=True)
    exe = tmp_path / "probe"
    subprocess.run([cc, "-o", str(exe), str(tmp_path / "main.c"), f"-L{libdir}", "-lktstrprobe",
                    "-Wl,-rpath,$ORIGIN/libs"], check=True)
    return exe, libdir


def test_runpath_origin_is_followed_and_missing_library_is_named(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on this host to build the probe binary")
    exe, libdir = _build(tmp_path, cc)
    assert str(libdir / "libktstrprobe.so") in closure([str(exe)])
    (libdir / "libktstrprobe.so").unlink()
    with pytest.raises(ClosureError) as err:
        closure([str(exe)])
    assert "libktstrprobe.so" in str(err.value) and str(exe) in str(err.value)
