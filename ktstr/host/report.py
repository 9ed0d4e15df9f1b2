"""The one-screen terminal report: what failed, why, and where the full logs are."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from ktstr.host.engines.base import CONSOLE_TAIL_BYTES, console_lines
from ktstr.host.engines.boot_io import file_tail
from ktstr.sanitize import file_name
from ktstr.wire.results import RunReport, TestOutcome
from ktstr.wire.status import Status

_CONSOLE_LINES = 15
_WIDTH = 100


def _short(text: str, width: int = _WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def terminal_report(suite: str, outcomes: Sequence[TestOutcome], engine: str, wall_s: float,
                    console_tail: str, log_dir: Optional[Path | str]) -> str:
    lines = []
    counts = {v: sum(1 for o in outcomes if o.verdict == v) for v in Status}
    summary = ", ".join(f"{counts[v]} {v.value}" for v in Status if counts[v])
    lines.append(f"ktstr {suite}: {summary or 'no tests'} ({engine}, {wall_s:.1f} s)")
    for o in outcomes:
        lines.append(f"  {o.verdict.value:<12} {o.name}: {_short(o.reason, _WIDTH - 16 - len(o.name))}")
        # Covered findings and switched-off checks are part of the verdict: always shown.
        lines += [f"               {_short(k, _WIDTH - 15)}" for k in o.known_lines()]
    bad = [o for o in outcomes if not o.verdict.ok]
    for o in bad[:3]:
        lines.append("")
        lines.append(f"--- {o.name}: {o.verdict.value}")
        lines.append(f"    why: {_short(o.reason, _WIDTH * 2)}")
        for c in o.failed_claims[:5]:
            lines.append(f"    claim: {_short(c.text())}")
        if o.sched_ext_exit:
            lines.append(f"    sched_ext exit: {_short(o.sched_ext_exit)}")
        for s in o.splats[:3]:
            lines.append(f"    kernel {s.kind}: {_short(s.line)}")
        for d in o.details[:4]:
            lines.append(f"    detail: {_short(d)}")
        if o.scheduler_output:
            tail = o.scheduler_output.strip().splitlines()[-3:]
            lines += [f"    scheduler: {_short(line)}" for line in tail]
        if o.sched_ext_dump:
            dump = o.sched_ext_dump.splitlines()
            lines.append(f"    sched_ext dump: {len(dump)} lines in {dump_file(o)}; "
                         f"first: {_short(next((d for d in dump if d.strip()), ''), _WIDTH - 40)}")
    if bad and console_tail:
        lines.append("")
        lines.append(f"--- console tail (last {_CONSOLE_LINES} lines)")
        lines += ["    " + line for line in console_tail.splitlines()[-_CONSOLE_LINES:]]
    if log_dir is not None:
        lines.append("")
        lines.append(f"full logs: {log_dir} (console.log, result.json, scheduler logs, "
                     f"sched_ext dumps)")
    return "\n".join(lines)


def scheduler_log_file(o: TestOutcome) -> str:
    """The file name of a test's scheduler output in the run's out dir (the name may come
    from the guest: sanitized)."""
    return f"scheduler-{file_name(o.name)}.log"


def dump_file(o: TestOutcome) -> str:
    return f"sched_ext_dump-{file_name(o.name)}.txt"


def console_tail(report: RunReport, out_dir: Path, lines: int = 40) -> str:
    """The end of the console of the last boot with a failed test (of the last boot when
    none failed), read from its log in the run's out dir: the report's and JUnit's tail."""
    bad = [b for b in report.boots if any(not o.verdict.ok for o in report.outcomes if o.name in b.tests)]
    boots = bad or report.boots
    if not boots:
        return ""
    try:
        return console_lines(file_tail(out_dir / boots[-1].console_log, CONSOLE_TAIL_BYTES), lines)
    except OSError:  # a boot that never wrote its console (the engine failed to start)
        return ""
