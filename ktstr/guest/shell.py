"""Shell mode: the VM a test would get (kernel, topology, scheduler attached), with an
interactive shell on the console instead of tests. For poking at a scheduler by hand:
/sys/kernel/sched_ext, cgroups, tracing, `taskset`, `top`. Leaving the shell powers off.

Exec mode is the same VM running one command (`ktstr shell --exec CMD`): its output goes to
the console between two lines the host's display cuts at (EXEC_BEGIN, EXEC_END), and its
exit status reaches the host in a signed result frame, as the one test "exec".
"""

from __future__ import annotations

import fcntl
import os
import signal
import termios
from typing import TYPE_CHECKING

from ktstr.guest.kmsg import KmsgReader
from ktstr.guest.scheduler import Scheduler
from ktstr.wire.marks import EXEC_BEGIN, EXEC_END
from ktstr.wire.run_config import EXEC_TEST, EXIT_STATUS_STAT, RunConfig, exit_status_reason

CONSOLE = "/dev/ttyS0"
SHELL = "/bin/sh"
TIMED_OUT_STATUS = 124  # as timeout(1): the command outlived the VM's time
# The command must end this long before the host's VM timeout, so its result still reaches
# the host; a command killed for it exits TIMED_OUT_STATUS.
EXEC_RESERVE_S = 5.0

if TYPE_CHECKING:  # the agent imports this module; its Reporter is only a type here
    from ktstr.guest.agent import Reporter


def _say(text: str) -> None:
    print(f"ktstr shell: {text}", flush=True)


def run(config: RunConfig) -> int:
    from ktstr.topology import SysTopology

    topo = SysTopology.read()
    sched = None
    s = config.scheduler
    if s is not None:
        sched = Scheduler(s, KmsgReader(), "/tmp/scheduler.log")
        problem = sched.start()
        if problem:
            _say(f"scheduler {s.name} did not attach: {problem} (its output: /tmp/scheduler.log)")
        else:
            _say(f"scheduler {s.name} attached ({' '.join([str(s.binary), *s.args])}, "
                 f"output in /tmp/scheduler.log)")
    _say(f"kernel {os.uname().release}, topology {topo.shape()} ({len(topo.cpus)} CPUs); "
         f"exit the shell to power off")
    status = _interactive_shell(config.term or "vt100")
    if sched is not None:
        sched.stop()
    return status


def run_command(config: RunConfig, rep: Reporter) -> None:
    """Exec mode: attach the scheduler as for a test, run config.command with /bin/sh -c
    (stdin /dev/null, output on the console), report its exit status as the test "exec".
    `rep` is the agent's Reporter (the only writer of frames)."""
    import subprocess
    import time

    from ktstr.guest.agent import hello
    from ktstr.topology import SysTopology
    from ktstr.wire.messages import GuestTestResult, TestStart
    from ktstr.wire.status import Status

    rep.send(hello(SysTopology.read()))
    rep.send(TestStart(EXEC_TEST))
    result = GuestTestResult(name=EXEC_TEST, status=Status.FAIL)
    sched = None
    if config.scheduler is not None:
        sched = Scheduler(config.scheduler, KmsgReader(), "/tmp/scheduler.log")
        problem = sched.start()
        if problem:
            sched.wait_disabled()
            result.reason = f"scheduler {config.scheduler.name} did not attach: {problem}"
            result.scheduler_output = sched.output_tail()
            rep.send(result)
            return
    limit = max((config.vm_timeout_s or 0.0) - EXEC_RESERVE_S, 1.0) if config.vm_timeout_s else None
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp", "TERM": config.term or "vt100"}
    print(EXEC_BEGIN, flush=True)
    start = time.monotonic()
    proc = subprocess.Popen([SHELL, "-c", config.command], stdin=subprocess.DEVNULL, env=env, cwd="/tmp",
                            start_new_session=True)
    try:
        status = proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        status = TIMED_OUT_STATUS
        result.details.append(f"the command ran past {limit:g} s (the VM's timeout less {EXEC_RESERVE_S:g} s) "
                              f"and was killed")
    else:
        status = _exit_status(status)
    result.duration_s = time.monotonic() - start
    _drain_stdout()
    print(f"{EXEC_END} {status}", flush=True)
    result.stats[EXIT_STATUS_STAT] = float(status)
    result.status = Status.PASS if status == 0 else Status.FAIL
    result.reason = "" if status == 0 else exit_status_reason(status)
    if sched is not None:
        problem = sched.problem()
        if problem:
            sched.wait_disabled()
            result.status = Status.FAIL
            result.reason = f"scheduler {sched.spec.name} died: {problem}"
        sched.stop()
    rep.send(result)


def _exit_status(returncode: int) -> int:
    """Popen's returncode as a shell would say it: a signal N is 128+N."""
    return 128 - returncode if returncode < 0 else returncode


def _drain_stdout() -> None:
    """Let the console send the command's output before the end mark."""
    import sys

    try:
        sys.stdout.flush()
        termios.tcdrain(sys.stdout.fileno())
    except (OSError, termios.error, ValueError):
        pass  # not a tty (a test run), or the console is gone


def _interactive_shell(term: str) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(_session_leader(term))
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _session_leader(term: str) -> int:
    """Own the console as its session, run the shell in it, and outlive the shell until the
    console has sent everything.

    When a session leader exits, the kernel hangs its controlling tty up, and a hangup
    discards what the serial driver has not sent yet (tty_ldisc_hangup flushes the driver's
    buffer). With the shell itself as the leader, its last line ("done-42" after `echo
    done-42; exit`) was lost in about half the runs under TCG, whose UART drains slowly. So
    the leader is this process: it waits for the shell, then drains the console
    (tcdrain), and only then exits.
    """
    os.setsid()
    fd = os.open(CONSOLE, os.O_RDWR)
    fcntl.ioctl(fd, termios.TIOCSCTTY, 0)  # a controlling tty: job control, ^C
    shell = os.fork()
    if shell == 0:
        try:
            for std in (0, 1, 2):
                os.dup2(fd, std)
            env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp", "TERM": term,
                   "PS1": "ktstr:\\w# "}
            os.execve(SHELL, [SHELL, "-i"], env)
        finally:
            os._exit(127)
    # The shell made its own job the console's foreground; a drain (TCSBRK) from outside it
    # would be answered with SIGTTOU, or EIO for this orphaned group, unless SIGTTOU is ignored.
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    _, status = os.waitpid(shell, 0)
    try:
        termios.tcdrain(fd)
    except termios.error:
        pass  # the console went away: nothing left to keep
    return os.waitstatus_to_exitcode(status)
