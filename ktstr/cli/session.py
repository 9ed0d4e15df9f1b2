"""Run a RunRequest and write every result artifact: JUnit, sidecar JSON, terminal report.

Shared by the `ktstr run` command and the Bazel test entry point so both produce the same
files and the same exit status (0 iff every test PASSed or was SKIPped with a reason).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from ktstr.errors import KtstrError
from ktstr.host import runner
from ktstr.host.junit import write_junit
from ktstr.host.outcome import TestOutcome
from ktstr.host.report import terminal_report
from ktstr.host.request import RunRequest
from ktstr.wire.status import Status

SIDECAR_NAME = "result.json"
REPORT_NAME = "report.txt"


def execute(req: RunRequest, junit_path: Optional[Path], log_hint: Optional[str] = None) -> int:
    try:
        report = runner.run(req)
    except (KtstrError, ValueError, OSError) as exc:
        # The run never started (bad input, no engine): still a verdict per test, with reason.
        why = f"could not start the VM: {exc}"
        outcomes = [TestOutcome(name, Status.INCONCLUSIVE, why) for name in req.payload.names()] or [
            TestOutcome("run", Status.INCONCLUSIVE, why)]
        report = runner.RunReport(suite=req.suite, engine=req.engine or "auto", outcomes=outcomes)
    runner.write_sidecar(report, req.out_dir / SIDECAR_NAME)
    console = report.console_tail()
    if junit_path is not None:
        write_junit(junit_path, req.suite, report.outcomes, console)
    text = terminal_report(req.suite, report.outcomes, report.engine, report.wall_s, console,
                           log_hint or req.out_dir)
    (req.out_dir / REPORT_NAME).write_text(text + "\n")
    print(text, file=sys.stderr if not report.ok else sys.stdout)
    return 0 if report.ok else 1
