"""Judge a run of the upstream sched_ext selftests runner (tools/testing/selftests/sched_ext).

The runner prints, per test:
    ===== START =====
    TEST: create_dsq
    DESCRIPTION: ...
    OUTPUT:
    ...
    ok 1 create_dsq #            (or "not ok 2 name #", or "ok 3 name # SKIP ")
    =====  END  =====
and a RESULTS block at the end. It runs in the guest with its output on the console, so
kernel lines interleave; each selftest becomes one TestOutcome with its own output as
evidence. A selftest that started but never printed its result line (the guest hung or
crashed inside it) fails with the engine's reason; kernel splats fail the test they
happened in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ktstr.host.console_scan import SPLAT_PATTERNS, console_lines
from ktstr.host.engines import BootResult, ExitKind
from ktstr.wire.results import Splat, TestOutcome
from ktstr.wire.status import Status

_KPREFIX = re.compile(r"^\[\s*\d+\.\d+\]\s*")
_START = "===== START ====="
_TEST = re.compile(r"^TEST: (?P<name>\S+)")
_RESULT = re.compile(r"^(?P<status>ok|not ok) (?P<num>\d+) (?P<name>\S+) #\s*(?P<skip>SKIP)?")
_SUMMARY = re.compile(r"^(PASSED|SKIPPED|FAILED):\s+(\d+)")


@dataclass
class _Section:
    name: str
    output: list[str] = field(default_factory=list)
    splats: list[Splat] = field(default_factory=list)
    status: str = ""
    skip: bool = False


def parse_runner_console(console: bytes) -> tuple[list[_Section], dict[str, int]]:
    sections: list[_Section] = []
    summary: dict[str, int] = {}
    current: _Section | None = None
    for raw in console_lines(console):
        line = raw.rstrip()
        if line.strip() == _START:
            current = _Section(name="?")
            sections.append(current)
            continue
        m = _SUMMARY.match(line)
        if m:
            summary[m.group(1)] = int(m.group(2))
            continue
        if current is None:
            continue
        m = _TEST.match(line)
        if m and current.name == "?":
            current.name = m.group("name")
            continue
        m = _RESULT.match(line)
        if m and m.group("name") == current.name:
            current.status = m.group("status")
            current.skip = bool(m.group("skip"))
            current = None
            continue
        for kind, pattern in SPLAT_PATTERNS:
            if pattern.search(line):
                current.splats.append(Splat(kind, line.strip()))
                break
        current.output.append(line)
    return sections, summary


def evaluate_selftests(boot: BootResult) -> list[TestOutcome]:
    sections, summary = parse_runner_console(boot.console_tail)
    outcomes: list[TestOutcome] = []
    for s in sections:
        output = "\n".join(s.output[-60:])
        if not s.status:
            verdict = Status.FAIL
            why = boot.exit_reason or boot.detail
            reason = (f"selftest never finished: the guest {'hung' if boot.exit_kind == ExitKind.TIMEOUT else 'ended'}"
                      f" inside it ({why})")
        elif s.status == "not ok":
            verdict, reason = Status.FAIL, "selftest failed (runner printed 'not ok')"
        elif s.skip:
            verdict, reason = Status.SKIP, "selftest skipped itself (runner printed '# SKIP')"
        else:
            verdict, reason = Status.PASS, "selftest passed"
        if s.splats and verdict != Status.FAIL:
            verdict = Status.FAIL
            reason = f"kernel {s.splats[0].kind} during the selftest: {s.splats[0].line}"
        outcomes.append(TestOutcome(name=s.name, verdict=verdict, reason=reason, splats=s.splats,
                                    scheduler_output=output))
    if not sections:
        why = boot.exit_reason or boot.detail
        verdict = Status.INCONCLUSIVE if boot.exit_kind == ExitKind.ENGINE_ERROR else Status.FAIL
        outcomes.append(TestOutcome("runner", verdict,
                                    f"the selftests runner printed no test ({boot.exit_kind.value}: {why})"))
    elif not summary and boot.exit_kind == ExitKind.POWEROFF:
        outcomes.append(TestOutcome("runner", Status.FAIL, "the selftests runner did not print its RESULTS summary"))
    return outcomes
