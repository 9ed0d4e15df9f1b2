"""The runner's child processes (QEMU), which must never outlive it, and its in-process VMs
(the C VMM), which must stop when it is told to.

A runner can end three ways, and each has its guard:

- SIGKILL (Bazel's hard kill, the OOM killer): nothing of ours runs, so the kernel does it:
  every child gets PR_SET_PDEATHSIG(SIGKILL) between fork and exec. QEMU runs in its own
  session (a Ctrl-C on the terminal must not reach it before the runner has decided what to
  keep), so a kill of the runner's process group alone would miss it.
- SIGTERM (Bazel's timeout, then SIGKILL after a grace period) and SIGINT (Ctrl-C):
  `terminating()` installs handlers that stop every live child through its engine's own stop
  (so the boot ends as STOPPED with the reason, not as a crash) and remember why; the runner
  then boots nothing more and writes what finished.
- Exit (normal, or an exception): atexit kills every child's process group.

The death signal fires when the *thread* that forked the child ends, so children are spawned
from the runner's main thread, which lives as long as the run.

The C VMM runs inside the runner (ktstr.host.engines.vmm): SIGKILL ends it with the process,
and `stoppable(stop)` registers its stop with the same SIGTERM/SIGINT handling as a child's.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import subprocess
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, Sequence

from ktstr.errors import KtstrError

PR_SET_PDEATHSIG = 1

# The reason texts of a run the host cut short, so every report says it the same way.
CUT_SHORT = "cut short by the host"
NOT_RUN = "not run: out of time"

# Loaded before any fork: the child must not import or dlopen between fork and exec (another
# thread could hold the import lock at fork time).
_LIBC = ctypes.CDLL(None, use_errno=True)
_prctl = _LIBC.prctl
_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_prctl.restype = ctypes.c_int


class ChildError(KtstrError, OSError):
    """A child process could not be started with its guards."""


class _Child:
    def __init__(self, proc: subprocess.Popen[bytes], group: bool) -> None:
        self.proc = proc
        self.group = group  # its own session/process group: kill the group (QEMU's helpers too)
        self.stop: Optional[Callable[[str], None]] = None  # the engine's stop, with a reason

    def kill(self) -> None:
        if self.proc.returncode is not None:
            return  # reaped: the pid may already belong to someone else
        try:
            if self.group:
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.kill()
        except (ProcessLookupError, PermissionError):
            pass


# Reentrant: a signal handler runs in the main thread, possibly while it holds the lock.
_lock = threading.RLock()
_live: dict[int, _Child] = {}
_in_process: dict[int, Callable[[str], None]] = {}  # id -> stop of an in-process VM
_stop_reason = ""


def _die_with(parent: int) -> Callable[[], None]:
    def preexec() -> None:
        # Runs in the child between fork and exec: only the preloaded prctl and getppid.
        if _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent:  # the runner died before the prctl: nobody will signal us
            os._exit(125)
    return preexec


def spawn(cmd: Sequence[str], *, own_session: bool = True, **popen: Any) -> subprocess.Popen[bytes]:
    """Popen(cmd) that dies with this process: the death signal, and registered for the
    kill on SIGTERM/SIGINT/exit until `release(proc)`. `own_session`: its own session and
    process group (killed as a group); False keeps the terminal (the interactive shell)."""
    try:
        proc: subprocess.Popen[bytes] = subprocess.Popen(
            list(cmd), start_new_session=own_session, preexec_fn=_die_with(os.getpid()), **popen)
    except OSError as exc:
        raise ChildError(f"cannot start {cmd[0]}: {exc}") from exc
    with _lock:
        _live[proc.pid] = _Child(proc, own_session)
    return proc


def on_stop(proc: subprocess.Popen[bytes], stop: Callable[[str], None]) -> None:
    """How to stop this child with a reason (the engine's own stop, so its result says
    STOPPED and why); without one, a stop kills it."""
    with _lock:
        child = _live.get(proc.pid)
        if child is not None:
            child.stop = stop
    if _stop_reason:  # the signal came between spawn and here
        stop(_stop_reason)


def release(proc: subprocess.Popen[bytes]) -> None:
    """The child is reaped (or about to be): forget it. Kills it first if it still runs."""
    with _lock:
        child = _live.pop(proc.pid, None)
    if child is not None and proc.poll() is None:
        child.kill()
        proc.wait()


@contextmanager
def stoppable(stop: Callable[[str], None]) -> Iterator[None]:
    """While the body runs an in-process VM, a stop of the run (SIGTERM, SIGINT,
    request_stop) calls `stop(reason)`; called at once when the run is already stopping."""
    key = id(stop)
    with _lock:
        _in_process[key] = stop
    try:
        if _stop_reason:
            stop(_stop_reason)
        yield
    finally:
        with _lock:
            _in_process.pop(key, None)


def live_pids() -> list[int]:
    with _lock:
        return [pid for pid, c in _live.items() if c.proc.returncode is None]


def stop_all(reason: str) -> None:
    """Stop every live child, through its engine's stop when it has one."""
    with _lock:
        children = list(_live.values())
        in_process = list(_in_process.values())
    for child in children:
        if child.stop is not None:
            child.stop(reason)
        else:
            child.kill()
    for stop in in_process:
        stop(reason)


def kill_all() -> None:
    with _lock:
        children = list(_live.values())
    for child in children:
        child.kill()


atexit.register(kill_all)


def stop_reason() -> str:
    """Why the run was cut short ("" while it was not): a signal arrived."""
    return _stop_reason


def request_stop(reason: str) -> None:
    """Cut the run short: every live child stops with `reason`, and the runner starts no
    more boots (it checks stop_reason() between boots)."""
    global _stop_reason
    if not _stop_reason:
        _stop_reason = reason
    stop_all(_stop_reason)


_SIGNAL_WHY = {
    signal.SIGTERM: "the runner got SIGTERM (Bazel's test timeout, or a kill)",
    signal.SIGINT: "the runner got SIGINT (Ctrl-C)",
}


@contextmanager
def terminating() -> Iterator[None]:
    """While the body runs, SIGTERM and SIGINT cut the run short instead of killing the
    runner mid-write; a second SIGINT raises KeyboardInterrupt (atexit still kills the
    children). Outside the main thread (signal handlers cannot be installed there) the body
    runs unguarded, with the death signal and atexit only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if signum == signal.SIGINT and _stop_reason:
            raise KeyboardInterrupt
        request_stop(f"{CUT_SHORT}: {_SIGNAL_WHY[signal.Signals(signum)]}")

    old = {s: signal.signal(s, handler) for s in _SIGNAL_WHY}
    try:
        yield
    finally:
        # The stop reason stays: a process asked to end starts no boot after this one either
        # (ktstr_compare_test runs execute() once per run).
        for s, h in old.items():
            signal.signal(s, h)
