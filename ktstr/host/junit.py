"""JUnit XML: one <testcase> per test function, the shape Bazel and CI systems read.

PASS -> plain testcase; SKIP -> <skipped message=reason>; FAIL -> <failure>;
INCONCLUSIVE -> <error> (the run proved nothing: neither a pass nor the scheduler's fault).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Sequence

from ktstr.sanitize import xml_text
from ktstr.wire.results import TestOutcome
from ktstr.wire.status import Status

# Every text below comes from the guest or the user: names and evidence may hold
# characters XML cannot carry.
_clean = xml_text


def evidence_text(outcome: TestOutcome, console_tail: str) -> str:
    lines = [f"{outcome.verdict.value}: {outcome.reason}"]
    if outcome.failed_claims:
        lines.append("failed claims:")
        lines += [f"  {c.text()}" for c in outcome.failed_claims]
    if outcome.sched_ext_exit:
        lines.append(f"sched_ext exit: {outcome.sched_ext_exit}")
    for splat in outcome.splats:
        lines.append(f"kernel {splat.kind}: {splat.line}")
        lines += [f"    {line}" for line in splat.context]
    lines += outcome.known_lines()
    if outcome.details:
        lines.append("details:")
        lines += [f"  {d}" for d in outcome.details]
    if outcome.scheduler_output:
        lines.append("scheduler output (tail):")
        lines += [f"  {line}" for line in outcome.scheduler_output.splitlines()[-30:]]
    if console_tail:
        lines.append("console tail:")
        lines += [f"  {line}" for line in console_tail.splitlines()]
    return "\n".join(lines)


def junit_xml(suite: str, outcomes: Sequence[TestOutcome], console_tail: str = "") -> bytes:
    counts = {v: sum(1 for o in outcomes if o.verdict == v) for v in Status}
    root = ET.Element("testsuites")
    ts = ET.SubElement(root, "testsuite", {
        "name": _clean(suite),
        "tests": str(len(outcomes)),
        "failures": str(counts[Status.FAIL]),
        "errors": str(counts[Status.INCONCLUSIVE]),
        "skipped": str(counts[Status.SKIP]),
        "time": f"{sum(o.duration_s for o in outcomes):.3f}",
    })
    for o in outcomes:
        tc = ET.SubElement(ts, "testcase", {
            "classname": _clean(suite), "name": _clean(o.name), "time": f"{o.duration_s:.3f}",
        })
        if o.verdict == Status.SKIP:
            ET.SubElement(tc, "skipped", {"message": _clean(o.reason)})
        elif o.verdict in (Status.FAIL, Status.INCONCLUSIVE):
            tag = "failure" if o.verdict == Status.FAIL else "error"
            el = ET.SubElement(tc, tag, {"message": _clean(o.reason), "type": o.verdict.value})
            el.text = _clean(evidence_text(o, console_tail))
        elif o.expected or o.known_lines():
            out = ET.SubElement(tc, "system-out")
            out.text = _clean("\n".join([o.expected or "", *o.known_lines()]).strip())
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def write_junit(path: Path, suite: str, outcomes: Sequence[TestOutcome], console_tail: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(junit_xml(suite, outcomes, console_tail))
