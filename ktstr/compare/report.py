"""The terminal report of a comparison: one table per test, the rule, the outcome."""

from __future__ import annotations

from typing import Optional

from ktstr.compare.judge import INFO, REGRESSION, Comparison, MetricComparison


def _num(x: Optional[float]) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _rel(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:+.1%}"


def _p(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.3f}"


def _row(m: MetricComparison) -> str:
    ci = f"[{_num(m.ci[0])}, {_num(m.ci[1])}]" if m.ci else "-"
    label = m.kind.label if m.kind else ""
    flag = "!!" if m.verdict == REGRESSION else "  "
    return (f"  {flag} {m.stat:<34} {label:<20} {_num(m.median_a):>10} {_num(m.median_b):>10} "
            f"{_rel(m.relative):>8} {_p(m.p_worse):>7} {ci:>22}  {m.verdict}")


def text_report(c: Comparison, show_all: bool = False) -> str:
    lines = [
        f"ktstr compare: A = {len(c.runs_a)} run(s), B = {len(c.runs_b)} run(s)",
        f"  A: {', '.join(r.source for r in c.runs_a)}",
        f"  B: {', '.join(r.source for r in c.runs_b)}",
        f"  rule: {c.rule.text()}",
    ]
    for t in c.tests:
        lines.append("")
        lines.append(f"{t.name}: A {_verdicts(t.verdicts_a)}, B {_verdicts(t.verdicts_b)}")
        if t.verdict_regression:
            lines.append(f"  !! verdicts: {t.verdict_regression}")
        shown = [m for m in t.metrics if show_all or m.verdict != INFO]
        if shown:
            lines.append(f"     {'stat':<34} {'metric':<20} {'A median':>10} {'B median':>10} "
                         f"{'change':>8} {'p worse':>7} {'95% CI of B-A median':>22}  verdict")
            lines += [_row(m) for m in shown]
    for side, names in (("A", c.only_a), ("B", c.only_b)):
        if names:
            lines.append(f"\nonly in {side} (not compared): {', '.join(names)}")
    lines.append("")
    if c.regressions:
        lines.append(f"REGRESSION: {len(c.regressions)} finding(s): " + "; ".join(c.regressions))
    elif c.insufficient:
        lines.append(f"INCONCLUSIVE: fewer than {c.rule.min_runs} runs per side for "
                     f"{', '.join(c.insufficient)}; rerun with more (e.g. bazel test "
                     f"--runs_per_test={c.rule.min_runs}, or ktstr compare --min-runs to accept fewer)")
    else:
        lines.append("OK: no regression")
    return "\n".join(lines)


def _verdicts(vs: list[str]) -> str:
    counts: dict[str, int] = {}
    for v in vs:
        counts[v] = counts.get(v, 0) + 1
    return " ".join(f"{n}x{v}" for v, n in sorted(counts.items())) or "no runs"
