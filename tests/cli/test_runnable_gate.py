"""The scheduler_not_runnable_test gate fails on a planted fault: with its sides swapped
(a scheduler that must be runnable, the CLI that must not be), its script names both."""

import subprocess
from pathlib import Path

import pytest

PLANTED = Path("tests/cli/planted_runnable_scheduler.sh")


@pytest.mark.skipif(not PLANTED.exists(), reason="built by Bazel: //tests/cli:cli_test has it as data")
def test_planted_fault_fails_with_both_offenders():
    proc = subprocess.run([str(PLANTED)], capture_output=True, text=True)
    assert proc.returncode == 1
    # //:ktstr is an alias: the check sees the binary it names.
    assert "//:ktstr_cli is runnable: bazel run would start it on the host" in proc.stderr
    assert "//schedulers:scx_ktstr is not runnable" in proc.stderr
