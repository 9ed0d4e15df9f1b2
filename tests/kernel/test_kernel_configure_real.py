"""The real configure step on the real kernel source rejects options that do not stick.

Runs base config -> merge -> olddefconfig -> verify on Linux 6.12 (about 20 s, no compile):
a typo'd option and an option whose dependency a later fragment turns off must both fail,
and the message must name each option and, for the second, the unmet dependency.
"""

import os
from pathlib import Path

import pytest

from ktstr.kernel.cli import main

REPO = Path(__file__).resolve().parents[2]
DEBIAN_TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")


@pytest.fixture
def tarball():
    path = Path(os.environ.get("KTSTR_KERNEL_TARBALL", DEBIAN_TARBALL))
    if not path.exists():
        pytest.skip(f"no kernel source tarball at {path} (Bazel passes @linux_6_12//:tarball; "
                    f"apt-get install linux-source-6.12)")
    return path


def test_bogus_and_unsatisfiable_options_fail_configure(tarball, tmp_path, capsys):
    bad = tmp_path / "bad.kconfig"
    bad.write_text("CONFIG_SCHED_CLASS_EXTT=y\n# CONFIG_PCI is not set\n")
    out = tmp_path / "config"
    rc = main([
        "configure",
        "--source", str(tarball),
        "--out", str(out),
        "--workdir", str(tmp_path / "work"),
        "--fragment", str(REPO / "kernels" / "ktstr.kconfig"),
        "--fragment", str(bad),
    ])
    err = capsys.readouterr().err
    assert rc == 1
    assert not out.exists()
    assert not (tmp_path / "work").exists()  # scratch removed on failure too
    assert f"{bad}:1: CONFIG_SCHED_CLASS_EXTT=y did not stick" in err
    assert "not an option of this kernel" in err
    # PCI=n (last wins) makes ktstr.kconfig's X86_64_ACPI_NUMA=y impossible: named with its cause.
    assert "CONFIG_X86_64_ACPI_NUMA=y did not stick" in err
    assert "PCI=n" in err
    # The merged request wanted PCI off and got it: that line is not reported.
    assert "CONFIG_PCI=n did not stick" not in err
