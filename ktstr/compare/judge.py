"""Turn the runs of two sides into per-test, per-metric verdicts.

The rule (stated in every report, see Rule.text):
- A judged metric (metrics.py) REGRESSED when all three hold:
  1. the one-sided Mann-Whitney U test says B is worse than A with p <= alpha (exact, ties
     included; with 3 runs a side the smallest possible p is 0.05, so 3 is the minimum);
  2. B's median is worse than A's by more than `threshold` of A's median;
  3. and by more than the metric's noise floor in its own unit (metrics.py).
  The same test the other way round is an IMPROVEMENT. A bootstrap 95% interval of the
  median difference is reported beside it, for the reader.
- A test REGRESSED on its verdicts when B fails a larger share of its runs than A.
- With fewer than `min_runs` runs of a test on either side its metrics are not judged
  (INSUFFICIENT): the comparison is then inconclusive, not a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from ktstr.compare.load import Run
from ktstr.compare.metrics import MetricKind, kind_of
from ktstr.compare.significance import bootstrap_median_delta, mann_whitney_greater, median

REGRESSION = "REGRESSION"
IMPROVEMENT = "improvement"
NO_CHANGE = "no change"
INSUFFICIENT = "INSUFFICIENT"
INFO = "info"


@dataclass(frozen=True)
class Rule:
    threshold: float = 0.10
    alpha: float = 0.05
    min_runs: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha {self.alpha}: give a significance level between 0 and 1, e.g. 0.05")
        if self.threshold < 0:
            raise ValueError(f"threshold {self.threshold}: give a relative change >= 0, e.g. 0.10 for 10%")
        if self.min_runs < 1:
            raise ValueError(f"min_runs {self.min_runs}: give at least 1")

    def text(self) -> str:
        return (f"regression = B worse than A by one-sided exact Mann-Whitney U p <= {self.alpha:g}, "
                f"by more than {self.threshold:.0%} of A's median and by more than the metric's noise "
                f"floor; judged with >= {self.min_runs} runs per side; a test also regresses when B "
                f"fails a larger share of its runs than A")


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
            "ci95_delta": list(self.ci) if self.ci else None,
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

    @property
    def regressions(self) -> list[str]:
        out = []
        for t in self.tests:
            if t.verdict_regression:
                out.append(f"{t.name}: {t.verdict_regression}")
            out += [f"{t.name}: {m.stat}" for m in t.metrics if m.verdict == REGRESSION]
        return out

    @property
    def insufficient(self) -> list[str]:
        return sorted({t.name for t in self.tests for m in t.metrics if m.verdict == INSUFFICIENT})

    @property
    def outcome(self) -> str:
        """REGRESSION, INCONCLUSIVE (too few runs to judge some metric) or OK."""
        if self.regressions:
            return "REGRESSION"
        if self.insufficient:
            return "INCONCLUSIVE"
        return "OK"

    def to_json(self) -> dict:
        return {"outcome": self.outcome, "rule": self.rule.text(),
                "threshold": self.rule.threshold, "alpha": self.rule.alpha, "min_runs": self.rule.min_runs,
                "runs_a": [r.source for r in self.runs_a], "runs_b": [r.source for r in self.runs_b],
                "only_a": self.only_a, "only_b": self.only_b, "regressions": self.regressions,
                "tests": [t.to_json() for t in self.tests]}


def _fail_share(verdicts: Sequence[str]) -> float:
    return sum(1 for v in verdicts if v == "FAIL") / len(verdicts) if verdicts else 0.0


def judge_metric(m: MetricComparison, rule: Rule) -> MetricComparison:
    if m.kind is None or not m.a or not m.b:
        m.verdict = INFO
        return m
    m.ci = bootstrap_median_delta(m.a, m.b)
    if len(m.a) < rule.min_runs or len(m.b) < rule.min_runs:
        m.verdict = INSUFFICIENT
        return m
    # "b larger" is worse for a lower-is-better metric.
    up, down = mann_whitney_greater(m.a, m.b), mann_whitney_greater(m.b, m.a)
    m.p_worse, m.p_better = (up, down) if m.kind.lower_is_better else (down, up)
    delta = m.delta
    worse_by = delta if m.kind.lower_is_better else -delta
    base = abs(m.median_a)
    big = abs(worse_by) > m.kind.floor and (abs(worse_by) > rule.threshold * base)
    if worse_by > 0 and big and m.p_worse <= rule.alpha:
        m.verdict = REGRESSION
    elif worse_by < 0 and big and m.p_better <= rule.alpha:
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
        stats = sorted({k for t in ta + tb for k in t.stats})
        for stat in stats:
            m = MetricComparison(name, stat, kind_of(stat),
                                 [t.stats[stat] for t in ta if stat in t.stats],
                                 [t.stats[stat] for t in tb if stat in t.stats])
            tc.metrics.append(judge_metric(m, rule))
        tests.append(tc)
    return Comparison(rule, list(runs_a), list(runs_b), tests,
                      [n for n in names_a if n not in names_b], [n for n in names_b if n not in names_a])


def _test_names(runs: Sequence[Run]) -> list[str]:
    seen: dict[str, None] = {}
    for r in runs:
        for n in r.tests:
            seen.setdefault(n, None)
    return list(seen)
