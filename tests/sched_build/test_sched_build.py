"""Schedulers built by Bazel: real ELF loaders and BPF struct_ops objects; compile errors
come out as clang prints them."""

import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

SCHED = Path("schedulers")
EXAMPLES = {"scx_simple": "simple", "scx_qmap": "qmap", "scx_central": "central", "scx_flatcg": "flatcg"}


def _bin(rel: str) -> Path:
    p = Path(rel)
    return p if p.exists() else Path("bazel-bin") / rel


def toolchain() -> Path:
    return _bin("schedulers/sched_ext_toolchain")


def kernel_src() -> Path:
    # @linux_6_12//:tools_sources lands under external/ (or ../) in runfiles; outside Bazel
    # (plain pytest after a build) it is in the output base, next to bazel-out's execroot.
    out = Path("bazel-out").resolve()
    for cand in (Path("external/linux_6_12/src"), Path("../linux_6_12/src"),
                 out.parents[2] / "external/linux_6_12/src" if len(out.parents) > 2 else Path("/nonexistent")):
        if (cand / "tools/sched_ext").is_dir():
            return cand
    pytest.fail("kernel tools sources not in runfiles (outside Bazel: run ./bazelw build //sched/... first)")


@pytest.mark.parametrize("name", sorted(EXAMPLES) + ["scx_ktstr/scx_ktstr"])
def test_loaders_are_x86_64_elf_executables(name):
    path = _bin(f"schedulers/sched_ext/{name}") if name in EXAMPLES else _bin(f"schedulers/{name}")
    with path.open("rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == "EM_X86_64" and elf["e_type"] in ("ET_EXEC", "ET_DYN")


def test_loader_prints_usage_on_the_host():
    out = subprocess.run([str(_bin("schedulers/scx_ktstr/scx_ktstr")), "-h"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0 and "usage:" in out.stdout and "ktstr" in out.stdout


def test_example_loader_runs_on_the_host():
    # The kernel's examples open their skeleton before parsing options, so on a host kernel
    # without sched_ext they stop at their own kernel check: proof they link and run
    # (a missing library would be exit 127 from the dynamic loader instead).
    out = subprocess.run([str(_bin("schedulers/sched_ext/scx_simple")), "-h"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode != 127, out.stderr
    if out.returncode != 0:
        assert "SCX_BUG" in out.stderr or "kernel" in out.stderr.lower(), out.stderr


def test_bpf_object_has_struct_ops_named_ktstr():
    obj = _bin("schedulers/scx_ktstr/scx_ktstr.bpf.o")
    with obj.open("rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == "EM_BPF"
        names = [s.name for s in elf.iter_sections()]
        assert any(n.startswith(".struct_ops") for n in names), names
        data = elf.get_section_by_name(".struct_ops.link") or elf.get_section_by_name(".struct_ops")
        assert b"ktstr" in data.data()


def test_selftests_runner_is_built():
    runner = _bin("schedulers/sched_ext_selftests_runner/runner")
    with runner.open("rb") as f:
        assert ELFFile(f)["e_machine"] == "EM_X86_64"


def test_bpf_syntax_error_reports_clangs_message(tmp_path):
    broken = tmp_path / "oops.bpf.c"
    broken.write_text('#include <scx/common.bpf.h>\nchar _license[] SEC("license") = "GPL";\n'
                      "int broken(void) { return missing_symbol + ; }\n")
    loader = tmp_path / "oops.c"
    loader.write_text("int main(void) { return 0; }\n")
    proc = subprocess.run(
        ["bash", "rules/private/build_bpf_scheduler.sh", str(toolchain()), str(kernel_src()),
         str(broken), "oops", "oops_ops", "oops", str(tmp_path / "oops"), str(tmp_path / "oops.o"),
         "", "", str(loader)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert f"{broken}:3:" in proc.stderr and "error:" in proc.stderr
    assert "Traceback" not in proc.stderr
