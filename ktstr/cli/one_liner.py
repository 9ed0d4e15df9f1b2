"""The one-liner: `ktstr shell --exec CMD` and `bazel run //sched:eevdf_shell -- CMD` (any
ktstr_shell target) boot the test VM (kernel, topology, scheduler attached), run one shell
command in it, stream its output to stdout and exit with its status, as `vng -- CMD` does.

The status: the command's own (0-255) when the run was otherwise clean. A kernel splat, a
sched_ext exit, a hang or a crash during the command is a finding of the run like any
test's: it is printed on stderr and, when the command itself exited 0, the status is 1, so
`git bisect run` marks that kernel bad. A VM that could not start (no verdict at all) gives
125, which `git bisect run` takes as "cannot test this one".
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, Callable, Optional, Sequence

from ktstr.errors import KtstrError
from ktstr.host import runner
from ktstr.wire.results import TestOutcome
from ktstr.host.jobs import Exec
from ktstr.host.request import RunRequest
from ktstr.monitor.hook import MonitorHook
from ktstr.wire.marks import EXEC_BEGIN, EXEC_END
from ktstr.wire.run_config import EXIT_STATUS_STAT, GuestOptions, exit_status_reason
from ktstr.wire.status import Status

CANNOT_TEST = 125  # no verdict: the VM never ran the command
FINDING_STATUS = 1  # the command exited 0 but the run has a finding (splat, sched_ext exit, ...)
# A line longer than this is shown in pieces: the display never holds more of the console.
MAX_LINE_BYTES = 64 * 1024


def command_from_argv(argv: Sequence[str]) -> str:
    """`-- CMD`: one word is a shell command line as typed ('cat x | wc -l'); several are an
    argv, quoted so that each stays one word (`-- echo 'a b'`)."""
    return argv[0] if len(argv) == 1 else shlex.join(argv)


class ExecDisplay:
    """Console bytes in; out, only the lines between the guest's EXEC_BEGIN and EXEC_END
    lines (the command's output, with any kernel line printed meanwhile), \\r\\n made \\n.
    Display only: the marks decide what is shown, never the verdict."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.state = "before"  # -> "during" -> "after"
        self.partial = b""

    def feed(self, data: bytes) -> None:
        if self.state == "after":
            return
        self.partial += data
        *lines, self.partial = self.partial.split(b"\n")
        if len(self.partial) > MAX_LINE_BYTES:
            lines.append(self.partial)
            self.partial = b""
        for line in lines:
            self._line(line.rstrip(b"\r"))
            if self.state == "after":
                return
        self.out.flush()

    def _line(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").strip()
        if self.state == "before":
            if text == EXEC_BEGIN:
                self.state = "during"
        elif text.startswith(EXEC_END):
            self.state = "after"
            self.out.flush()
        else:
            self.out.write(line + b"\n")


def exit_status(outcome: Optional[TestOutcome], say: Callable[[str], None]) -> int:
    """The one-liner's exit status from the "exec" test's outcome; `say` gets each finding
    that is not the command's own exit status."""
    if outcome is None or outcome.verdict == Status.INCONCLUSIVE:
        say(f"the command did not run: {outcome.reason if outcome else 'no outcome'}")
        return CANNOT_TEST
    status = outcome.stats.get(EXIT_STATUS_STAT)
    own = exit_status_reason(int(status)) if status is not None else None
    others = [f for f in outcome.findings if f.text != own]
    for f in others:
        say(f"{f.kind}: {f.text}")
    if status is None:
        if not others:
            say(f"no exit status from the guest: {outcome.reason}")
        return FINDING_STATUS
    code = int(status)
    return code if code != 0 else (FINDING_STATUS if others else 0)


def run_one_liner(req: RunRequest, command: str, out: Optional[BinaryIO] = None) -> int:
    """Boot req's VM with `command` as its payload; returns the exit status (module doc)."""
    display = ExecDisplay(out or sys.stdout.buffer)
    with tempfile.TemporaryDirectory(prefix="ktstr-exec-") as tmp:
        req = replace(req, payload=Exec(command, req.scheduler, GuestOptions(vm_timeout_s=req.timeout_s)),
                      console_sink=display.feed, stream_console=False, out_dir=Path(tmp) / "out",
                      work_dir=Path(tmp) / "work")
        report = runner.run(req, hook=MonitorHook())  # as for a test: its stall findings count
    display.feed(b"\n")  # a last line without its newline
    outcome = next(iter(report.outcomes), None)
    return exit_status(outcome, lambda text: print(f"ktstr: {text}", file=sys.stderr))


_UNITS = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}


def memory_mib(text: str) -> int:
    """'2G', '512M', '1536' (MiB): the guest memory in MiB, as vng's --memory takes it."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1] if t and t[-1] in _UNITS else "M"
    number = t[:-1] if t and t[-1] in _UNITS else t
    try:
        mib = float(number) * _UNITS[unit]
    except ValueError:
        raise OneLinerError(f"--memory {text!r} is not a size: give e.g. 2G or 512M") from None
    if mib < 1 or mib != int(mib):
        raise OneLinerError(f"--memory {text!r} is not a whole number of MiB of at least 1: give e.g. 2G or 512M")
    return int(mib)


def vm_shape_args(args) -> None:
    """vng's --cpus and --memory onto ktstr's --topology and --memory-mib (refusing both)."""
    if getattr(args, "cpus", None) is not None:
        if args.topology:
            raise OneLinerError("give --cpus or --topology, not both")
        if args.cpus < 1:
            raise OneLinerError(f"--cpus {args.cpus}: give at least 1")
        args.topology = f"1n1l{args.cpus}c1t"
    if getattr(args, "memory", None) is not None:
        if args.memory_mib:
            raise OneLinerError("give --memory or --memory-mib, not both")
        args.memory_mib = memory_mib(args.memory)


class OneLinerError(KtstrError, ValueError):
    """The one-liner's own options cannot be used as given."""
