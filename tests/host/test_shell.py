"""`bazel run //sched:scx_simple_shell`: the test VM with the scheduler attached and a shell
on the terminal, driven here through a pipe as a person would type; and the one-liner
(`bazel run //sched:scx_simple_shell -- CMD`), its output and its exit status."""

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


def one_liner(*command: str) -> subprocess.CompletedProcess:
    """`bazel run //sched:scx_simple_shell -- COMMAND...`, as Bazel would run it."""
    env = {**os.environ, "KTSTR_ENGINE": os.environ.get("KTSTR_ENGINE", "auto")}
    return subprocess.run([str(SHELL), "--config", str(CONFIG), *command], stdin=subprocess.DEVNULL,
                          capture_output=True, env=env, cwd=runfiles_root(), timeout=240)


def test_the_one_liner_prints_the_commands_output_and_exits_with_its_status():
    run = one_liner("cat /sys/kernel/sched_ext/root/ops; nproc; echo out-$((6*7)); exit 3")
    assert run.returncode == 3, run.stderr.decode(errors="replace")[-3000:]
    # Only the command's output: no boot lines, no power-off line.
    assert run.stdout == b"simple\n4\nout-42\n", run.stdout


def test_a_kernel_splat_during_a_command_that_exits_0_is_status_1_and_named():
    # Several words are an argv: the inner quotes reach the guest's sh intact.
    run = one_liner("sh", "-c", "echo 'WARNING: CPU: 0 PID: 1 at x.c:1 planted_by_the_one_liner' > /dev/kmsg")
    err = run.stderr.decode(errors="replace")
    assert run.returncode == 1, err[-3000:]
    assert "planted_by_the_one_liner" in err and "WARNING" in err, err[-3000:]
