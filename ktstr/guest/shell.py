"""Shell mode: the VM a test would get (kernel, topology, scheduler attached), with an
interactive shell on the console instead of tests. For poking at a scheduler by hand:
/sys/kernel/sched_ext, cgroups, tracing, `taskset`, `top`. Leaving the shell powers off.
"""

from __future__ import annotations

import fcntl
import os
import signal
import termios

from ktstr.guest.kmsg import KmsgReader
from ktstr.guest.scheduler import Scheduler
from ktstr.wire.run_config import RunConfig

CONSOLE = "/dev/ttyS0"
SHELL = "/bin/sh"


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
