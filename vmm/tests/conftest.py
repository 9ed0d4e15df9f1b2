"""Fixtures shared by the VMM tests: running ktstr-vmm and reading its key=value exit report."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

# The binary under test: the plain build, or the ASan/UBSan one (vmm_sanitized_test).
VMM = Path(os.environ.get("KTSTR_VMM_BINARY", "vmm/ktstr-vmm"))
GUESTS = Path("vmm/tests/guests")
LIBRARY = Path("vmm/libktstr_vmm.so")


def valgrind_or_skip() -> None:
    """Skip a valgrind run where it cannot happen, saying why."""
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed (tools/debian-packages.txt has it)")
    if "sanitized" in VMM.name:
        pytest.skip("the ASan/UBSan build checks itself (valgrind cannot run it)")


def kvm_usable() -> bool:
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


@dataclass
class VmmRun:
    rc: int
    out: str  # COM1
    report: dict[str, str]  # the exit report (stderr key=value lines)


def run_vmm(*args: str, wrapper: tuple[str, ...] = (), timeout: float = 120) -> VmmRun:
    proc = subprocess.run([*wrapper, str(VMM), *args], capture_output=True, text=True, timeout=timeout)
    report = dict(line.split("=", 1) for line in proc.stderr.splitlines()
                  if "=" in line and not line.startswith("=="))
    return VmmRun(proc.returncode, proc.stdout, report)


@pytest.fixture
def vmm():
    if not kvm_usable():
        pytest.skip("no read/write access to /dev/kvm on this host")
    return run_vmm
