"""Run a RunRequest and write every result artifact: JUnit, sidecar JSON, terminal report.

Shared by the `ktstr run` command and the Bazel test entry point so both produce the same
files and the same exit status (0 iff every test PASSed or was SKIPped with a reason).
"""

from __future__ import annotations

import fcntl
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from ktstr.errors import KtstrError
from ktstr.host import children, runner
from ktstr.host.engines.select import AUTO
from ktstr.host.junit import write_junit
from ktstr.host.report import console_tail, terminal_report
from ktstr.host.request import RunRequest
from ktstr.monitor.hook import MonitorHook
from ktstr.wire.results import RESULT_NAME, RunReport, TestOutcome, write_result
from ktstr.wire.status import Status

REPORT_NAME = "report.txt"
DEFAULT_OUT = Path("ktstr-out")
LATEST = "latest"  # DEFAULT_OUT/latest: the last run started in this directory
_LOCK_NAME = ".ktstr-run.lock"
_held_locks: list[int] = []  # open until the process ends: the out dir stays ours


class OutDirError(KtstrError, OSError):
    """The run's output directory cannot be used (another run writes there)."""


def claim_out_dir(out: Optional[str]) -> Path:
    """The directory this run writes its logs and result.json to, which no other run shares.
    Given (--out): locked for this run, refused while another run holds it. Not given: a new
    ktstr-out/run-<UTC time>-<random> (two runs started in one directory never meet), with
    ktstr-out/latest pointing at it."""
    if out is None:
        DEFAULT_OUT.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        # mkdtemp: created exclusively with a random part, so no two runs get one name
        path = Path(tempfile.mkdtemp(prefix=f"run-{stamp}-", dir=DEFAULT_OUT))
        path.chmod(0o755)
        link = DEFAULT_OUT / f".{LATEST}-{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(path.name)
        os.replace(link, DEFAULT_OUT / LATEST)  # atomic: a reader sees the old or the new run
    else:
        path = Path(out)
        path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / _LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise OutDirError(f"another ktstr run (pid {holder}) is writing to {path}: wait for it, or give "
                          f"another --out") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _held_locks.append(fd)
    return path


def find_result(path: Path) -> Path:
    """result.json of a run: the file, a run's directory, or ktstr-out (its latest run)."""
    if path.is_dir():
        if not (path / RESULT_NAME).exists() and (path / LATEST / RESULT_NAME).exists():
            return path / LATEST / RESULT_NAME
        return path / RESULT_NAME
    return path


def execute(req: RunRequest, junit_path: Optional[Path], log_hint: Optional[str] = None) -> int:
    # SIGTERM (Bazel's timeout) or Ctrl-C stops the VM and the boots left, and the reports
    # below are still written with what finished (ktstr.host.children).
    with children.terminating():
        return _execute(req, junit_path, log_hint)


def _execute(req: RunRequest, junit_path: Optional[Path], log_hint: Optional[str]) -> int:
    try:
        report = runner.run(req, hook=MonitorHook())
    except (KtstrError, OSError) as exc:
        # The run never started (bad input, no engine, a file the machine refused): still a
        # verdict per test, with reason. A bug (any other exception) keeps its traceback.
        why = f"could not start the VM: {exc}"
        outcomes = [TestOutcome(name, Status.INCONCLUSIVE, why) for name in req.payload.names()] or [
            TestOutcome("run", Status.INCONCLUSIVE, why)]
        report = RunReport(suite=req.suite, engine=req.engine.name or AUTO, outcomes=outcomes)
    write_result(report, req.out_dir / RESULT_NAME)
    console = console_tail(report, req.out_dir)
    if junit_path is not None:
        write_junit(junit_path, req.suite, report.outcomes, console)
    text = terminal_report(req.suite, report.outcomes, report.engine, report.wall_s, console,
                           log_hint or req.out_dir)
    (req.out_dir / REPORT_NAME).write_text(text + "\n")
    print(text, file=sys.stderr if not report.ok else sys.stdout)
    return 0 if report.ok else 1
