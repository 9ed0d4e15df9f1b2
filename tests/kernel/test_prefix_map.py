"""The kernel build's path maps leave no scratch path in DWARF (else the build ID, which is
computed before DWARF is stripped, differs between two clean builds of the same inputs)."""

import shutil
import subprocess

import pytest
from elftools.elf.elffile import ELFFile

from ktstr.kernel.build import _prefix_map_flags


def test_no_scratch_path_survives_in_dwarf(tmp_path):
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("gcc is not installed (tools/debian-packages.txt has it)")
    src, obj = tmp_path / "src", tmp_path / "build"
    src.mkdir()
    obj.mkdir()
    (src / "f.c").write_text("int f(void) { return __LINE__; }\n")
    flags = _prefix_map_flags(src, obj).split()
    subprocess.run([cc, "-g", "-c", *flags, str(src / "f.c"), "-o", str(obj / "f.o")], cwd=obj,
                   check=True)
    blob = (obj / "f.o").read_bytes()
    assert str(tmp_path).encode() not in blob, "a scratch path leaked into the object file"
    with open(obj / "f.o", "rb") as f:
        cu = next(ELFFile(f).get_dwarf_info().iter_CUs())
        top = cu.get_top_DIE()
        assert top.attributes["DW_AT_comp_dir"].value == b"."
