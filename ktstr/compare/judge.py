"""Turn the runs of two sides into per-test, per-metric verdicts.

The rule (stated in every report, see Rule.text):
- A judged metric (metrics.py: per-test aggregates) REGRESSED when all three hold:
  1. the one-sided Mann-Whitney U test says B is worse than A with p <= alpha / k, where k
     is the number of judged metrics of the whole comparison that vary at all (Bonferroni:
     the chance of any false regression stays <= alpha however many metrics there are);
     p is exact, ties included;
  2. B's median is worse than A's by more than `threshold` of A's median;
  3. and by more than the metric's noise floor in its own unit (metrics.py).
  The same the other way round is an IMPROVEMENT. A bootstrap 95% interval of the median
  difference is reported beside it, for the reader.
- A test REGRESSED on its verdicts when B fails a larger share of its runs than A.
- A metric with a non-finite value (NaN, infinity) in any run is NOT FINITE: not judged,
  the comparison is inconclusive, and the report names the runs (their measurement failed;
  a rank test over NaN says nothing, and leaving the run out would hide it).
- A metric whose run counts cannot reach alpha / k even with complete separation (the
  smallest exact p is 1 / C(n_a + n_b, n_b)) is INSUFFICIENT: the comparison is then
  inconclusive, not a pass, and says how many runs per side would do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

from ktstr.compare.load import Run
from ktstr.compare.metrics import MetricKind, judged_stats, kind_of
from ktstr.compare.significance import bootstrap_median_delta, mann_whitney_greater, median
from ktstr.errors import KtstrError


class RuleError(KtstrError, ValueError):
    """A comparison rule out of range (alpha, threshold)."""


REGRESSION = "REGRESSION"
IMPROVEMENT = "improvement"
NO_CHANGE = "no change"
INSUFFICIENT = "INSUFFICIENT"
INFO = "info"
NOT_FINITE = "NOT FINITE"


@dataclass(frozen=True)
class Rule:
    threshold: float = 0.10
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise RuleError(f"alpha {self.alpha}: give a significance level between 0 and 1, e.g. 0.05")
        if self.threshold < 0:
            raise RuleError(f"threshold {self.threshold}: give a relative change >= 0, e.g. 0.10 for 10%")

    def text(self) -> str:
        return (f"regression = B worse than A by one-sided exact Mann-Whitney U p <= {self.alpha:g}/k "
                f"(k = judged metrics that vary; Bonferroni), by more than {self.threshold:.0%} of A's "
                f"median and by more than the metric's noise floor; a test also regresses when B fails "
                f"a larger share of its runs than A")


def smallest_p(n_a: int, n_b: int) -> float:
    """The smallest one-sided exact Mann-Whitney p with these run counts."""
    return 1 / math.comb(n_a + n_b, n_b)


def runs_needed(alpha_each: float) -> int:
    """Runs per side (equal sides) for complete separation to reach alpha_each."""
    n = 1
    while smallest_p(n, n) > alpha_each:
        n += 1
    return n


@dataclass
class MetricComparison:
    test: str
    stat: str
    kind: Optional[MetricKind]
    a: list[float]
    b: list[float]
    verdict: str = INFO
    p_worse: Optional[float] = None
    p_better: Optional[float] = None
    ci: Optional[tuple[float, float]] = None
    # "A run 3 (path): nan" for each non-finite value (filled by compare)
    nonfinite: list[str] = field(default_factory=list)

    @property
    def finite(self) -> bool:
        return all(math.isfinite(v) for v in self.a + self.b)

    @property
    def median_a(self) -> Optional[float]:
        return median(self.a) if self.a else None

    @property
    def median_b(self) -> Optional[float]:
        return median(self.b) if self.b else None

    @property
    def delta(self) -> Optional[float]:
        if not self.a or not self.b:
            return None
        return self.median_b - self.median_a

    @property
    def relative(self) -> Optional[float]:
        d, base = self.delta, self.median_a
        if d is None or not base:
            return None
        return d / abs(base)

    def to_json(self) -> dict:
        return {
            "test": self.test, "stat": self.stat, "metric": self.kind.label if self.kind else None,
            "verdict": self.verdict, "a": self.a, "b": self.b, "median_a": self.median_a,
            "median_b": self.median_b, "delta": self.delta, "relative": self.relative,
            "p_worse": self.p_worse, "p_better": self.p_better,
            "ci95_delta": list(self.ci) if self.ci else None, "nonfinite": self.nonfinite,
        }


@dataclass
class TestComparison:
    __test__ = False  # not a pytest class

    name: str
    verdicts_a: list[str]
    verdicts_b: list[str]
    verdict_regression: str = ""  # why, when B fails more often than A
    metrics: list[MetricComparison] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return bool(self.verdict_regression) or any(m.verdict == REGRESSION for m in self.metrics)

    def to_json(self) -> dict:
        return {"test": self.name, "verdicts_a": self.verdicts_a, "verdicts_b": self.verdicts_b,
                "verdict_regression": self.verdict_regression, "regressed": self.regressed,
                "metrics": [m.to_json() for m in self.metrics]}


@dataclass
class Comparison:
    rule: Rule
    runs_a: list[Run]
    runs_b: list[Run]
    tests: list[TestComparison]
    only_a: list[str]
    only_b: list[str]
    family: int = 1  # k: judged metrics that vary
    alpha_each: float = 0.05  # alpha / k

    @property
    def regressions(self) -> list[str]:
        out = []
        for t in self.tests:
            if t.verdict_regression:
                out.append(f"{t.name}: {t.verdict_regression}")
            out += [f"{t.name}: {m.stat}" for m in t.metrics if m.verdict == REGRESSION]
        return out

    @property
    def not_finite(self) -> list[str]:
        """"test: stat (A run 2 (path): nan)" for every judged metric with a non-finite value."""
        return [f"{t.name}: {m.stat} ({'; '.join(m.nonfinite)})" for t in self.tests for m in t.metrics
                if m.verdict == NOT_FINITE]

    @property
    def insufficient(self) -> list[str]:
        return sorted({t.name for t in self.tests for m in t.metrics if m.verdict == INSUFFICIENT})

    @property
    def outcome(self) -> str:
        """REGRESSION, INCONCLUSIVE (too few runs, or non-finite values, for some metric) or OK."""
        if self.regressions:
            return "REGRESSION"
        if self.insufficient or self.not_finite:
            return "INCONCLUSIVE"
        return "OK"

    def to_json(self) -> dict:
        return {"outcome": self.outcome, "rule": self.rule.text(),
                "threshold": self.rule.threshold, "alpha": self.rule.alpha, "family": self.family,
                "alpha_each": self.alpha_each, "runs_needed": runs_needed(self.alpha_each),
                "runs_a": [r.source for r in self.runs_a], "runs_b": [r.source for r in self.runs_b],
                "only_a": self.only_a, "only_b": self.only_b, "regressions": self.regressions,
                "not_finite": self.not_finite,
                "tests": [t.to_json() for t in self.tests]}


def _fail_share(verdicts: Sequence[str]) -> float:
    return sum(1 for v in verdicts if v == "FAIL") / len(verdicts) if verdicts else 0.0


def _varies(m: MetricComparison) -> bool:
    return m.kind is not None and bool(m.a) and bool(m.b) and m.finite and len(set(m.a) | set(m.b)) > 1


def judge_metric(m: MetricComparison, rule: Rule, alpha_each: float) -> MetricComparison:
    if m.kind is None or not m.a or not m.b:
        m.verdict = INFO
        return m
    if not m.finite:
        m.verdict = NOT_FINITE
        return m
    m.ci = bootstrap_median_delta(m.a, m.b)
    if smallest_p(len(m.a), len(m.b)) > alpha_each:
        m.verdict = INSUFFICIENT
        return m
    if not _varies(m):
        m.verdict = NO_CHANGE
        return m
    # "b larger" is worse for a lower-is-better metric.
    up, down = mann_whitney_greater(m.a, m.b), mann_whitney_greater(m.b, m.a)
    m.p_worse, m.p_better = (up, down) if m.kind.lower_is_better else (down, up)
    delta = m.delta
    worse_by = delta if m.kind.lower_is_better else -delta
    base = abs(m.median_a)
    big = abs(worse_by) > m.kind.floor and (abs(worse_by) > rule.threshold * base)
    if worse_by > 0 and big and m.p_worse <= alpha_each:
        m.verdict = REGRESSION
    elif worse_by < 0 and big and m.p_better <= alpha_each:
        m.verdict = IMPROVEMENT
    else:
        m.verdict = NO_CHANGE
    return m


def compare(runs_a: Sequence[Run], runs_b: Sequence[Run], rule: Rule = Rule()) -> Comparison:
    names_a = _test_names(runs_a)
    names_b = _test_names(runs_b)
    common = [n for n in names_a if n in names_b]
    tests = []
    for name in common:
        ta = [r.tests[name] for r in runs_a if name in r.tests]
        tb = [r.tests[name] for r in runs_b if name in r.tests]
        tc = TestComparison(name, [t.verdict for t in ta], [t.verdict for t in tb])
        fa, fb = _fail_share(tc.verdicts_a), _fail_share(tc.verdicts_b)
        if fb > fa:
            tc.verdict_regression = (f"B failed {tc.verdicts_b.count('FAIL')}/{len(tb)} runs, "
                                     f"A {tc.verdicts_a.count('FAIL')}/{len(ta)}: "
                                     + next(t.reason for t in tb if t.verdict == "FAIL"))
        sources_a = [r.source for r in runs_a if name in r.tests]
        sources_b = [r.source for r in runs_b if name in r.tests]
        judged_a = [judged_stats(t.stats) for t in ta]
        judged_b = [judged_stats(t.stats) for t in tb]
        for stat in sorted({k for j in judged_a + judged_b for k in j}):
            tc.metrics.append(_metric(name, stat, kind_of(stat), judged_a, judged_b, sources_a, sources_b))
        for stat in sorted({k for t in ta + tb for k in t.stats}):
            tc.metrics.append(_metric(name, stat, None, [t.stats for t in ta], [t.stats for t in tb],
                                      sources_a, sources_b))
        tests.append(tc)
    family = max(1, sum(1 for t in tests for m in t.metrics if _varies(m)))
    alpha_each = rule.alpha / family
    for t in tests:
        for m in t.metrics:
            judge_metric(m, rule, alpha_each)
    return Comparison(rule, list(runs_a), list(runs_b), tests,
                      [n for n in names_a if n not in names_b], [n for n in names_b if n not in names_a],
                      family, alpha_each)


def _metric(test: str, stat: str, kind: Optional[MetricKind], stats_a: list[dict[str, float]],
            stats_b: list[dict[str, float]], sources_a: list[str], sources_b: list[str]) -> MetricComparison:
    m = MetricComparison(test, stat, kind, [s[stat] for s in stats_a if stat in s],
                         [s[stat] for s in stats_b if stat in s])
    for side, stats, sources in (("A", stats_a, sources_a), ("B", stats_b, sources_b)):
        runs = enumerate(zip(stats, sources, strict=True), start=1)
        m.nonfinite += [f"{side} run {i} ({src}): {s[stat]}" for i, (s, src) in runs
                        if stat in s and not math.isfinite(s[stat])]
    return m


def _test_names(runs: Sequence[Run]) -> list[str]:
    seen: dict[str, None] = {}
    for r in runs:
        for n in r.tests:
            seen.setdefault(n, None)
    return list(seen)
