"""`bazel run //sched:scx_simple_shell`: the test VM with the scheduler attached and a shell
on the terminal, driven here through a pipe as a person would type."""

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

SHELL = Path("sched/scx_simple_shell")
# `bazel run` passes the target's args (--config ...); run directly, the test passes them.
CONFIG = Path("sched/scx_simple_shell_ktstr_config.json")
BANNER = b"exit the shell to power off"


def read_until(proc: subprocess.Popen, marker: bytes, timeout: float) -> bytes:
    out, deadline = b"", time.monotonic() + timeout
    while marker not in out and time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            out += os.read(proc.stdout.fileno(), 65536)
    return out


def runfiles_root() -> Path:
    """Here in Bazel; outside it (plain pytest after a build) the binary's own runfiles."""
    if SHELL.exists():
        return Path(".")
    built = Path("bazel-bin/sched/scx_simple_shell.runfiles/ktstr")
    if (built / SHELL).exists():
        return built
    pytest.skip("//sched:scx_simple_shell is not built: bazel test //tests/host:shell_test")


def test_the_shell_vm_has_the_scheduler_attached_and_the_topology():
    root = runfiles_root()
    env = {**os.environ, "KTSTR_ENGINE": os.environ.get("KTSTR_ENGINE", "auto"), "TERM": "dumb"}
    proc = subprocess.Popen([str(SHELL), "--config", str(CONFIG)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, cwd=root)
    try:
        banner = read_until(proc, BANNER, timeout=120)
        assert BANNER in banner, banner.decode(errors="replace")[-3000:]
        time.sleep(0.5)  # the shell starts reading the console
        proc.stdin.write(b"cat /sys/kernel/sched_ext/state /sys/kernel/sched_ext/root/ops; "
                         b"cat /sys/devices/system/cpu/cpu2/cache/index3/shared_cpu_list; "
                         b"echo done-$((6*7)); exit\n")
        proc.stdin.flush()
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = (banner + rest).decode(errors="replace")
    assert "ktstr shell: scheduler scx_simple attached" in text
    assert "topology 1n2l2c1t (4 CPUs)" in text  # tiny-2llc
    assert "\nenabled" in text.replace("\r", "") and "\nsimple" in text.replace("\r", "")
    assert "\n2-3" in text.replace("\r", "")  # CPU 2 shares its LLC with CPU 3 only
    assert "done-42" in text and "reboot: Power down" in text
    assert proc.returncode == 0
