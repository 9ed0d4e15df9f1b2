"""Pointwise claims whose labels come from code, never from free strings.

    v = Claims()
    v.claim(cg).max_gap_ms.at_most(100)          # label "max_gap_ms" (the field's name)
    claim(v, cg.wake_latency_tail_ratio()).between(1.0, 5.0)
                                                 # label: the source text of the expression
    result = v.into_result()

Every comparison is recorded; failed ones fail the result with label, value and bound.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import math
from typing import Any

from ktstr.checks.result import AssertResult, ClaimRecord


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


class Claim:
    def __init__(self, verdict: "Claims", label: str, value: Any) -> None:
        self._v, self.label, self.value = verdict, label, value

    def _record(self, ok: bool, bound: str) -> "Claims":
        self._v.records.append(ClaimRecord(self.label, _fmt(self.value), bound, bool(ok)))
        return self._v

    def at_least(self, bound: float) -> "Claims":
        return self._record(self.value >= bound, f">= {_fmt(bound)}")

    def at_most(self, bound: float) -> "Claims":
        return self._record(self.value <= bound, f"<= {_fmt(bound)}")

    def between(self, lo: float, hi: float) -> "Claims":
        return self._record(lo <= self.value <= hi, f"in [{_fmt(lo)}, {_fmt(hi)}]")

    def equals(self, expected: Any) -> "Claims":
        return self._record(self.value == expected, f"== {_fmt(expected)}")

    def is_finite(self) -> "Claims":
        ok = isinstance(self.value, (int, float)) and math.isfinite(self.value)
        return self._record(ok, "finite")


class _Fields:
    """`v.claim(obj).field` -> a Claim labelled with the field's name (prefixed with the
    object's `name` attribute when it has one, e.g. 'cg_0.max_gap_ms')."""

    def __init__(self, verdict: "Claims", obj: Any) -> None:
        self._v, self._obj = verdict, obj

    def __getattr__(self, field: str) -> Claim:
        value = getattr(self._obj, field)
        if callable(value):
            value = value()
        owner = getattr(self._obj, "name", "")
        return Claim(self._v, f"{owner}.{field}" if owner else field, value)


class Claims:
    """A test's claims, collected (`v = Claims(); claim(v, x).at_most(5); v.into_result()`)."""

    def __init__(self) -> None:
        self.records: list[ClaimRecord] = []

    def claim(self, obj: Any) -> _Fields:
        return _Fields(self, obj)

    def into_result(self, base: AssertResult | None = None) -> AssertResult:
        result = base or AssertResult()
        for rec in self.records:
            if not rec.passed:
                result.claims.append(rec)
                result.add_failure(f"claim failed: {rec}")
        return result


# The original ktstr's name for it. "Verdict" here means the PASS/FAIL of a test
# (ktstr.wire.status.Status), so ktstr's own code says Claims.
Verdict = Claims


def claim(verdict: Claims, value: Any) -> Claim:
    """Claim on an expression; the label is the expression's source text at the call site."""
    return Claim(verdict, _caller_expression(), value)


def _caller_expression() -> str:
    frame = inspect.currentframe().f_back.f_back  # caller of claim()
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    source = "".join(linecache.getlines(filename))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "claim"
                    and node.lineno <= lineno <= (node.end_lineno or node.lineno) and len(node.args) == 2):
                text = ast.get_source_segment(source, node.args[1])
                if text:
                    return " ".join(text.split())
    # No source (e.g. an interactive session): name the call site instead of guessing.
    return f"<expression at {filename}:{lineno}>"
