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
    # the library is one of the target's own files (declared), so it may come along
    assert str(libdir / "libktstrprobe.so") in closure([str(exe)], own=[str(libdir)])
    (libdir / "libktstrprobe.so").unlink()
    with pytest.raises(ClosureError) as err:
        closure([str(exe)], own=[str(libdir)])
    assert "libktstrprobe.so" in str(err.value) and str(exe) in str(err.value)


def _cc():
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on this host to build the crafted binaries")
    return cc


def _secret(tmp_path):
    """Stands in for ~/.netrc: a host file outside the system library directories."""
    home = tmp_path / "home"
    home.mkdir()
    secret = home / ".netrc"
    secret.write_text("machine example.com login me password hunter2\n")
    return secret


def test_an_interpreter_outside_the_system_dirs_is_refused(tmp_path):
    """Issue 22: `cc -Wl,--dynamic-linker=$HOME/.netrc` made the closure pack that file."""
    secret = _secret(tmp_path)
    (tmp_path / "main.c").write_text("int main(void) { return 0; }\n")
    exe = tmp_path / "crafted"
    subprocess.run([_cc(), "-o", str(exe), str(tmp_path / "main.c"), f"-Wl,--dynamic-linker={secret}"], check=True)
    assert read_elf(str(exe)).interp == str(secret)
    with pytest.raises(ClosureError) as err:
        closure([str(exe)])
    assert str(err.value).startswith(f"{exe}: PT_INTERP '{secret}' names {secret}, which is neither")


def test_a_needed_path_outside_the_system_dirs_is_refused(tmp_path):
    """A DT_NEEDED with a "/": linking against a library by its path (no soname) records the
    path; the file there is then whatever the host has."""
    cc = _cc()
    (tmp_path / "lib.c").write_text("int ktstr_answer(void) { return 42; }\n")
    (tmp_path / "main.c").write_text("int ktstr_answer(void);\nint main(void) { return ktstr_answer(); }\n")
    lib = tmp_path / "home" / "libsteal.so"
    lib.parent.mkdir()
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(tmp_path / "lib.c")], check=True)
    exe = tmp_path / "crafted"
    subprocess.run([cc, "-o", str(exe), str(tmp_path / "main.c"), str(lib)], check=True)
    assert read_elf(str(exe)).needed[0] == str(lib)
    lib.unlink()
    lib.write_text("machine example.com password hunter2\n")  # now any host file
    with pytest.raises(ClosureError) as err:
        closure([str(exe)])
    assert str(err.value).startswith(f"{exe}: DT_NEEDED '{lib}' names {lib}, which is neither")
    # a path that starts in a system directory and climbs out of it is refused the same way
    sneaky = "/usr/lib/../.." + str(lib)
    lib.unlink()
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(tmp_path / "lib.c")], check=True)
    subprocess.run([cc, "-o", str(exe), str(tmp_path / "main.c"), sneaky], check=True)
    assert read_elf(str(exe)).needed[0] == sneaky
    with pytest.raises(ClosureError, match=rf"DT_NEEDED '{sneaky}' names {lib}, which is neither"):
        closure([str(exe)])


def test_a_runpath_into_home_is_refused_unless_the_library_is_the_targets(tmp_path):
    exe, libdir = _build(tmp_path, _cc())
    with pytest.raises(ClosureError, match=r"DT_NEEDED 'libktstrprobe.so' names .*/libs/libktstrprobe.so"):
        closure([str(exe)])
    assert closure([str(exe)], own=[str(libdir / "libktstrprobe.so")])  # declared: admitted


def test_system_binaries_still_resolve():
    libs = closure([os.path.realpath(sys.executable)])
    assert any(lib.startswith(("/lib", "/usr/lib")) for lib in libs)
