"""The terminal report of a comparison: one table per test, the rule, the outcome."""

from __future__ import annotations

from typing import Optional

from ktstr.compare.judge import INFO, NOT_FINITE, REGRESSION, Comparison, MetricComparison, runs_needed


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
    flag = "!!" if m.verdict in (REGRESSION, NOT_FINITE) else "  "
    return (f"  {flag} {m.stat:<34} {label:<20} {_num(m.median_a):>10} {_num(m.median_b):>10} "
            f"{_rel(m.relative):>8} {_p(m.p_worse):>7} {ci:>22}  {m.verdict}")


def text_report(c: Comparison, show_all: bool = False) -> str:
    lines = [
        f"ktstr compare: A = {len(c.runs_a)} run(s), B = {len(c.runs_b)} run(s)",
        f"  A: {_sources(c.runs_a)}",
        f"  B: {_sources(c.runs_b)}",
        f"  rule: {c.rule.text()}; here k = {c.family}, so p <= {c.alpha_each:.4g}",
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
    elif c.not_finite:
        lines.append("INCONCLUSIVE: non-finite values (their runs' measurements failed; not judged): "
                     + "; ".join(c.not_finite))
        if c.insufficient:
            lines.append(f"  and too few runs for {', '.join(c.insufficient)}")
    elif c.insufficient:
        n = runs_needed(c.alpha_each)
        lines.append(f"INCONCLUSIVE: too few runs to reach p <= {c.alpha_each:.4g} for "
                     f"{', '.join(c.insufficient)}: give at least {n} runs per side (e.g. bazel test "
                     f"--runs_per_test={n}), or a larger --alpha")
    else:
        lines.append("OK: no regression")
    return "\n".join(lines)


def _verdicts(vs: list[str]) -> str:
    counts: dict[str, int] = {}
    for v in vs:
        counts[v] = counts.get(v, 0) + 1
    return " ".join(f"{n}x{v}" for v, n in sorted(counts.items())) or "no runs"


def _sources(runs) -> str:
    names = [r.source for r in runs]
    return ", ".join(names) if len(names) <= 2 else f"{names[0]}, ... ({len(names) - 1} more; all in --json)"
