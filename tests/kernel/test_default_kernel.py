"""//kernels:default: the kernel every ktstr test boots, checked as built by Bazel."""

import os
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from ktstr.kernel.kconfig import parse_config_values, parse_fragment
from ktstr.kernel.verify import verify

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kernel():
    files = os.environ.get("KTSTR_DEFAULT_KERNEL_FILES", "").split()
    if not files:
        pytest.skip("KTSTR_DEFAULT_KERNEL_FILES is unset: run via `bazel test //tests/kernel:default_kernel_test`")
    return {Path(f).name: Path(f) for f in files}


def test_config_has_sched_ext_and_every_fragment_line(kernel):
    text = kernel["config"].read_text()
    values = parse_config_values(text)
    assert values["SCHED_CLASS_EXT"] == "y"
    assert values["DEBUG_INFO_BTF"] == "y"
    assert verify([parse_fragment(REPO / "kernels" / "ktstr.kconfig")], text) == []


def test_vmlinux_keeps_btf_and_symbols_but_not_dwarf(kernel):
    with open(kernel["vmlinux"], "rb") as f:
        elf = ELFFile(f)
        sections = {s.name for s in elf.iter_sections()}
        assert {".BTF", ".BTF_ids", ".symtab"} <= sections
        assert not [s for s in sections if s.startswith(".debug_")]
        assert elf.get_section_by_name(".BTF").data_size > 1_000_000
        symtab = elf.get_section_by_name(".symtab")
        names = {sym.name for sym in symtab.iter_symbols()}
    assert "start_kernel" in names
    assert "scx_bpf_dsq_insert" in names or "scx_bpf_dispatch" in names  # sched_ext kfuncs


def test_bzimage_is_a_bootable_image_of_the_release(kernel):
    data = kernel["bzImage"].read_bytes()
    assert data[0x202:0x206] == b"HdrS"  # x86 boot protocol header
    release = kernel["release"].read_text().strip()
    assert release.startswith("6.12.")
    # The setup header points at the version string: "<release> (ktstr@ktstr) #1 ..."
    version_offset = int.from_bytes(data[0x20E:0x210], "little") + 0x200
    version = data[version_offset : version_offset + 200].split(b"\0")[0].decode()
    assert version.startswith(f"{release} (ktstr@ktstr) #1")
