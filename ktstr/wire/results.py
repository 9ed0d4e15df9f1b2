"""result.json: what a run leaves for people and tools after it (verdicts, evidence, boots).

One schema, written and read here only. The runner fills a RunReport and `write_result`
writes it; `ktstr show`, `ktstr compare`, the verifier cells and anything else read it with
`read_result` / `parse_result` and get the same types back. The file carries a schema
version (`"schema"`); a file of another version, or one with a key this version does not
know, is refused with ResultSchemaError / ResultFileError naming the file, never read half
right (a renamed field must fail loudly, not turn every test into an unknown).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ktstr.errors import KtstrError
from ktstr.wire.messages import ClaimRecord
from ktstr.wire.status import Status

SCHEMA = 1  # bump on any change a reader of the old version would misread
RESULT_NAME = "result.json"
# What to give instead, in every error of a file that is not a result.
_GIVE = "give a result.json written by `ktstr run` or a ktstr_test target"


class ResultFileError(KtstrError, ValueError):
    """A result.json that cannot be read; the message names the file and the field."""


class ResultSchemaError(ResultFileError):
    """A result.json of a schema version this ktstr does not read."""


@dataclass
class Splat:
    kind: str  # BUG, WARNING, panic, lockdep, hung_task, rcu_stall, oops
    line: str
    context: list[str] = field(default_factory=list)


@dataclass
class Finding:
    """One thing that went wrong in a test, the unit expectations are judged on
    (ktstr/host/expectations.py): a failed claim, a guest-reported failure, a kernel splat, a
    sched_ext exit, a host monitor finding, a hang, a crash, a missing result, ...

    `text` is what the report shows and what an expectation's text is matched against,
    together with `evidence` (a splat's trace head, the sched_ext dump). `known` is the
    covering expectation's reason once one covers it ("" = not covered)."""

    kind: str    # one of expectations.KINDS
    text: str
    status: Status = Status.FAIL  # FAIL, or INCONCLUSIVE (the run proved nothing)
    evidence: str = ""
    known: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "status": self.status.value,
                "evidence": self.evidence, "known": self.known}

    @classmethod
    def from_json(cls, data: Any, where: str = "finding") -> Finding:
        r = _Reader(data, where)
        out = cls(kind=r.text("kind", None), text=r.text("text", None), status=r.status("status", Status.FAIL),
                  evidence=r.text("evidence", ""), known=r.text("known", ""))
        r.done()
        return out


@dataclass
class TestOutcome:
    """The final, host-judged result of one test function."""

    __test__ = False  # not a pytest class

    name: str
    verdict: Status
    reason: str
    failed_claims: list[ClaimRecord] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    splats: list[Splat] = field(default_factory=list)
    sched_ext_exit: str = ""
    scheduler_output: str = ""
    duration_s: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)
    expected: Optional[str] = None  # known failures that did not occur this run (expectations.judge)
    sched_ext_dump: str = ""  # the kernel's debug dump (run queues, tasks) at the ejection
    # Everything that went wrong, one Finding each; a covered one says "known: <reason>".
    findings: list[Finding] = field(default_factory=list)
    # Checks the test switched off, each "<check>: <reason>" (reported as "not checked: ...").
    not_checked: list[str] = field(default_factory=list)

    def known_lines(self) -> list[str]:
        """The report's lines for covered findings and switched-off checks."""
        return ([f"known: {f.known}: {f.text}" for f in self.findings if f.known]
                + [f"not checked: {n}" for n in self.not_checked])

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "verdict": self.verdict.value, "reason": self.reason,
            "failed_claims": [{"label": c.label, "value": c.value, "bound": c.bound, "passed": c.passed}
                              for c in self.failed_claims],
            "details": list(self.details),
            "splats": [{"kind": s.kind, "line": s.line, "context": list(s.context)} for s in self.splats],
            "sched_ext_exit": self.sched_ext_exit, "scheduler_output": self.scheduler_output,
            "duration_s": self.duration_s, "stats": dict(self.stats), "expected": self.expected,
            "sched_ext_dump": self.sched_ext_dump, "findings": [f.to_json() for f in self.findings],
            "not_checked": list(self.not_checked),
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "test") -> TestOutcome:
        """The inverse of to_json (result.json's "tests" entries)."""
        r = _Reader(data, where)
        name = r.text("name", None)
        r.where = f"{where.rsplit(': ', 1)[0]}: test {name}" if ": " in where else f"test {name}"
        out = cls(
            name=name, verdict=r.status("verdict", None), reason=r.text("reason", None),
            failed_claims=[_claim(c, f"{r.where}: failed_claims[{i}]")
                           for i, c in enumerate(r.items("failed_claims"))],
            details=r.texts("details"),
            splats=[_splat(s, f"{r.where}: splats[{i}]") for i, s in enumerate(r.items("splats"))],
            sched_ext_exit=r.text("sched_ext_exit", ""),
            scheduler_output=r.text("scheduler_output", ""),
            duration_s=r.number("duration_s", 0.0),
            stats=r.stats("stats"),
            expected=r.opt_text("expected"),
            sched_ext_dump=r.text("sched_ext_dump", ""),
            findings=[Finding.from_json(f, f"{r.where}: findings[{i}]") for i, f in enumerate(r.items("findings"))],
            not_checked=r.texts("not_checked"),
        )
        r.done()
        return out


@dataclass
class BootRecord:
    """One VM boot of the run, as result.json keeps it: the files are names in the run's
    output directory."""

    topology: str
    tests: list[str]
    exit_kind: str  # ktstr.host.engines.ExitKind's value
    engine: str
    wall_s: float
    detail: str
    console_log: str  # e.g. "console.log", "console-1-1n2l2c1t.log"
    result_stream: str
    stream_errors: list[str] = field(default_factory=list)
    protocol_errors: list[str] = field(default_factory=list)
    agent_error: str = ""
    monitor: str = ""  # the host monitor's one-line summary

    @property
    def suffix(self) -> str:
        """The part of this boot's file names after "console" (the monitor's files use it too)."""
        return self.console_log[len("console"):-len(".log")]

    def to_json(self) -> dict[str, Any]:
        return {"topology": self.topology, "tests": list(self.tests), "exit_kind": self.exit_kind,
                "engine": self.engine, "wall_s": round(self.wall_s, 3), "detail": self.detail,
                "console_log": self.console_log, "result_stream": self.result_stream,
                "stream_errors": list(self.stream_errors), "protocol_errors": list(self.protocol_errors),
                "agent_error": self.agent_error, "monitor": self.monitor}

    @classmethod
    def from_json(cls, data: Any, where: str = "boot") -> BootRecord:
        r = _Reader(data, where)
        out = cls(topology=r.text("topology", None), tests=r.texts("tests"), exit_kind=r.text("exit_kind", None),
                  engine=r.text("engine", None), wall_s=r.number("wall_s", 0.0), detail=r.text("detail", ""),
                  console_log=r.text("console_log", None), result_stream=r.text("result_stream", None),
                  stream_errors=r.texts("stream_errors"), protocol_errors=r.texts("protocol_errors"),
                  agent_error=r.text("agent_error", ""), monitor=r.text("monitor", ""))
        r.done()
        return out


@dataclass
class RunReport:
    """A whole run: its tests' outcomes and its boots."""

    suite: str
    engine: str
    outcomes: list[TestOutcome]
    boots: list[BootRecord] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def verdict(self) -> Status:
        v = Status.PASS
        for o in self.outcomes:
            v = v.worst(o.verdict)
        return v

    @property
    def ok(self) -> bool:
        return all(o.verdict.ok for o in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "suite": self.suite,
            "engine": self.engine,
            "verdict": self.verdict.value,  # derived, for people and jq; never read back
            "wall_s": round(self.wall_s, 3),
            "boots": [b.to_json() for b in self.boots],
            "tests": [o.to_json() for o in self.outcomes],
        }

    @classmethod
    def from_json(cls, data: Any, source: str = RESULT_NAME) -> RunReport:
        if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
            raise ResultFileError(f"{source}: not a ktstr result (no 'tests' list): {_GIVE}")
        schema = data.get("schema")
        if schema != SCHEMA:
            seen = "no schema version (written before ktstr versioned it)" if schema is None else f"schema {schema!r}"
            raise ResultSchemaError(f"{source}: {seen}, but this ktstr reads schema {SCHEMA} only: rerun the "
                                    f"test with this ktstr, or read the file with the ktstr that wrote it")
        r = _Reader(data, source)
        r.take("schema")
        r.status("verdict", Status.PASS)  # derived from the tests: checked as a value only
        out = cls(suite=r.text("suite", None), engine=r.text("engine", None),
                  wall_s=r.number("wall_s", 0.0),
                  boots=[BootRecord.from_json(b, f"{source}: boots[{i}]") for i, b in enumerate(r.items("boots"))],
                  outcomes=[TestOutcome.from_json(t, f"{source}: tests[{i}]") for i, t in enumerate(r.items("tests"))])
        r.done()
        return out


def parse_result(text: str | bytes, source: str) -> RunReport:
    """The RunReport of result.json's text; `source` names it in every error."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ResultFileError(f"{source}: not a ktstr result, not JSON ({exc}): {_GIVE}") from None
    return RunReport.from_json(data, source)


def read_result(path: Path) -> RunReport:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultFileError(f"cannot read result {path}: {exc} ({_GIVE}, or a run's directory)") from None
    return parse_result(text, str(path))


def write_result(report: RunReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=1, sort_keys=True) + "\n")


def _claim(data: Any, where: str) -> ClaimRecord:
    r = _Reader(data, where)
    out = ClaimRecord(r.text("label", None), r.text("value", None), r.text("bound", None), r.flag("passed", False))
    r.done()
    return out


def _splat(data: Any, where: str) -> Splat:
    r = _Reader(data, where)
    out = Splat(r.text("kind", None), r.text("line", None), r.texts("context"))
    r.done()
    return out


_REQUIRED = object()


class _Reader:
    """Takes the keys of one JSON object, each checked for its type; done() refuses the keys
    nobody took. A default of None means the key is required."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise ResultFileError(f"{where} is a JSON {type(data).__name__}, not an object: not a ktstr "
                                  f"result; {_GIVE}")
        self.data = dict(data)
        self.where = where

    def take(self, key: str, default: Any = _REQUIRED) -> Any:
        if key in self.data:
            return self.data.pop(key)
        if default is _REQUIRED:
            raise ResultFileError(f"{self.where}: no {key!r}: not a ktstr result; {_GIVE}")
        return default

    def _bad(self, key: str, value: Any, want: str) -> ResultFileError:
        return ResultFileError(f"{self.where}: {key!r} is {str(value)[:60]!r}, not {want}")

    def text(self, key: str, default: Optional[str]) -> str:
        value = self.take(key, _REQUIRED if default is None else default)
        if not isinstance(value, str):
            raise self._bad(key, value, "a string")
        return value

    def opt_text(self, key: str) -> Optional[str]:
        value = self.take(key, None)
        if value is not None and not isinstance(value, str):
            raise self._bad(key, value, "a string or null")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.take(key, default)
        if not isinstance(value, bool):
            raise self._bad(key, value, "true or false")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.take(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._bad(key, value, "a number")
        return float(value)

    def status(self, key: str, default: Optional[Status]) -> Status:
        value = self.take(key, _REQUIRED if default is None else default.value)
        try:
            return Status(value)
        except ValueError:
            raise self._bad(key, value, "one of " + ", ".join(s.value for s in Status)) from None

    def items(self, key: str) -> list[Any]:
        value = self.take(key, [])
        if not isinstance(value, list):
            raise self._bad(key, value, "a list")
        return value

    def texts(self, key: str) -> list[str]:
        value = self.items(key)
        if not all(isinstance(v, str) for v in value):
            raise self._bad(key, value, "a list of strings")
        return list(value)

    def stats(self, key: str) -> dict[str, float]:
        """Stats as floats. NaN and the infinities are kept (Python's json writes them as NaN
        and Infinity, strict writers as null), for a comparison to report: dropping them
        once turned a clear regression into "no change"."""
        value = self.take(key, {})
        if not isinstance(value, dict):
            raise self._bad(key, value, "an object")
        out = {}
        for name, v in value.items():
            if v is None:
                v = math.nan
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ResultFileError(f"{self.where}: stat {name} is {v!r}, not a number")
            out[str(name)] = float(v)
        return out

    def done(self) -> None:
        if self.data:
            raise ResultFileError(f"{self.where}: unknown key(s) {', '.join(sorted(self.data))} for result.json "
                                  f"schema {SCHEMA}: written by another ktstr? {_GIVE}")
