"""Start a sched_ext scheduler, wait until it is attached, notice when it goes away."""

from __future__ import annotations

import os
import subprocess
import time
from typing import Optional

from ktstr.guest.enable_helper import pin_init_cpu
from ktstr.guest.kmsg import KmsgReader, sched_ext_exit
from ktstr.wire.run_config import SchedulerSpec

STATE = "/sys/kernel/sched_ext/state"
ROOT_OPS = "/sys/kernel/sched_ext/root/ops"
# Loading and verifying BPF programs under an emulated CPU takes seconds.
ATTACH_TIMEOUT_S = 30.0
STOP_GRACE_S = 3.0
DISABLE_WAIT_S = 5.0
TAIL_BYTES = 4000


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


class Scheduler:
    def __init__(self, spec: SchedulerSpec, kmsg: KmsgReader, log_path: str) -> None:
        self.spec = spec
        self.kmsg = kmsg
        self.log_path = log_path
        self.proc: Optional[subprocess.Popen] = None
        self.attached = False
        self.watchdog_ms = 0  # what it was started with (0: the scheduler's own)

    def start(self, watchdog_ms: int = 0) -> Optional[str]:
        """Start and wait for attachment; returns the problem, or None when attached.
        watchdog_ms > 0 asks for that sched_ext watchdog timeout (ops.timeout_ms) through
        $KTSTR_WATCHDOG_TIMEOUT_MS; a scheduler that honours it says "(watchdog N ms)" when
        it attaches (ktstr's loader does), and one that does not is a problem named here."""
        self.attached = False
        self.watchdog_ms = watchdog_ms
        if self.spec.init_cpu is not None:
            problem = pin_init_cpu(self.spec.init_cpu)
            if problem:
                return problem
        env = dict(os.environ)
        if watchdog_ms:
            env["KTSTR_WATCHDOG_TIMEOUT_MS"] = str(watchdog_ms)
        log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([str(self.spec.binary), *self.spec.args], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        except OSError as exc:
            return f"cannot start scheduler {self.spec.binary}: {exc}"
        finally:
            log.close()
        deadline = time.monotonic() + ATTACH_TIMEOUT_S
        while time.monotonic() < deadline:
            self.kmsg.poll()
            if self.proc.poll() is not None:
                return f"scheduler exited with code {self.proc.returncode} before attaching"
            ops = _read(ROOT_OPS)
            if _read(STATE) == "enabled" and (not self.spec.ops_name or ops == self.spec.ops_name):
                self.attached = True
                return self._check_watchdog(watchdog_ms, log_start)
            time.sleep(0.05)
        return (f"scheduler did not attach within {ATTACH_TIMEOUT_S:.0f}s "
                f"(state {_read(STATE) or '?'}, root/ops {_read(ROOT_OPS) or 'empty'}, "
                f"expected ops {self.spec.ops_name!r})")

    def _check_watchdog(self, watchdog_ms: int, log_start: int) -> Optional[str]:
        if not watchdog_ms:
            return None
        ack = f"(watchdog {watchdog_ms} ms)"
        deadline = time.monotonic() + 2.0  # the line follows attachment at once
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(log_start)
                if ack in f.read().decode(errors="replace"):
                    return None
            time.sleep(0.05)
        return (f"watchdog_timeout_s={watchdog_ms / 1000:g}: scheduler {self.spec.name} did not confirm "
                f"it set sched_ext's ops.timeout_ms (no {ack!r} in its output); Linux 6.12 takes the "
                f"watchdog only from the scheduler: ktstr's loader (ktstr_bpf_scheduler) honours "
                f"$KTSTR_WATCHDOG_TIMEOUT_MS")

    def probe(self) -> Optional[str]:
        """problem() for a forked test process: no waitpid (the scheduler is not its child)
        and no kernel-log reads (the agent's reader shares the file offset with the child)."""
        if not self.attached or self.proc is None:
            return "scheduler is not attached"
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            state = "gone"
        if state in ("Z", "X", "gone"):
            return "scheduler process exited"
        sx = _read(STATE)
        if sx != "enabled":
            return f"sched_ext state is {sx or 'unknown'}, not enabled"
        return None

    def problem(self) -> Optional[str]:
        """Why the scheduler is no longer in charge, or None while it is."""
        if not self.attached or self.proc is None:
            return "scheduler is not attached"
        self.kmsg.poll()
        if self.proc.poll() is not None:
            return f"scheduler process exited with code {self.proc.returncode}"
        state = _read(STATE)
        if state != "enabled":
            return f"sched_ext state is {state or 'unknown'}, not enabled"
        return None

    def wait_disabled(self, timeout_s: float = DISABLE_WAIT_S) -> None:
        """After sched_ext left `enabled`, wait (bounded) until it has finished disabling:
        the kernel prints its reason at the end of that."""
        deadline = time.monotonic() + timeout_s
        while _read(STATE) not in ("disabled", "") and time.monotonic() < deadline:
            time.sleep(0.05)
        self.kmsg.poll()

    def exit_reason(self) -> str:
        self.kmsg.poll()
        return sched_ext_exit(self.kmsg.lines)

    def output_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - TAIL_BYTES))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
