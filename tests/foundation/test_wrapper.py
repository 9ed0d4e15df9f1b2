"""tools/bazel: the bootstrap wrapper behind both README commands."""

import os
import shutil
import subprocess
import time
from pathlib import Path

WRAPPER = Path("tools/bazel").resolve()
PACKAGES = Path("tools/debian-packages.txt")


def package_names() -> list[str]:
    return [line.strip() for line in PACKAGES.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_package_list_names_the_essentials():
    names = package_names()
    for essential in ["bazel-bootstrap", "linux-source-6.12", "qemu-system-x86",
                      "clang-19", "dwarves", "python3-venv", "busybox-static"]:
        assert essential in names
    assert len(names) == len(set(names)), "duplicate package in tools/debian-packages.txt"


def _sandbox_path(tmp_path: Path, tools: list[str]) -> str:
    """A PATH holding only the given host tools (links into a temp bin dir)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in tools:
        real = shutil.which(tool)
        assert real, f"host tool {tool} is missing"
        (bindir / tool).symlink_to(real)
    return str(bindir)


def test_non_debian_host_gets_a_list_of_what_to_install(tmp_path):
    # No dpkg-query/apt-get and none of the build tools on PATH: the wrapper must not try
    # to install anything, and must name what is missing.
    path = _sandbox_path(tmp_path, ["bash", "env", "grep", "dirname", "id", "cat", "sha256sum",
                                    "cut", "awk", "sort", "comm", "mkdir"])
    env = {"PATH": path, "HOME": str(tmp_path), "KTSTR_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(["bash", str(WRAPPER), "version"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    assert "not Debian" in proc.stderr
    assert "clang-19" in proc.stderr and "qemu-system-x86_64" in proc.stderr
    assert "bazel-bootstrap" in proc.stderr  # the package list is named too


def test_present_setup_costs_well_under_a_second(tmp_path):
    # Everything installed (this machine): the wrapper's own overhead before exec'ing
    # Bazel. `--version` is answered by Bazel's client without starting a server.
    if not shutil.which("dpkg-query"):
        import pytest
        pytest.skip("needs a Debian host with the packages installed (dpkg-query missing)")
    env = dict(os.environ)
    env["KTSTR_CACHE_DIR"] = str(tmp_path / "cache")  # no venv there: check mode only says so
    start = time.monotonic()
    proc = subprocess.run([str(WRAPPER), "--version"], env=env, capture_output=True, text=True,
                          timeout=60)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert "installing" not in proc.stderr
    assert elapsed < 1.0, f"wrapper overhead {elapsed:.3f}s"


def test_plain_bazel_only_checks_and_says_what_is_missing(tmp_path):
    # Debian's launcher runs tools/bazel for every `bazel` command (an IDE's `bazel info`):
    # without ./bazelw's KTSTR_SETUP=install it must not install, only say what to run.
    env = {k: v for k, v in os.environ.items() if k != "KTSTR_SETUP"}
    env["KTSTR_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.run([str(WRAPPER), "--version"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "./bazelw makes it" in proc.stderr
    assert not (tmp_path / "cache" / "venv").exists(), "check mode created the venv"


def test_bazelw_defaults_to_installing():
    text = Path("bazelw").read_text()
    assert 'KTSTR_SETUP="${KTSTR_SETUP:-install}"' in text
