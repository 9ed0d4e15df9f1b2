"""ktstr compare: statistics, loading runs the way ktstr and Bazel store them, the rule, CLI."""

from __future__ import annotations

import itertools
import json
import random
import zipfile
from pathlib import Path

import pytest

from ktstr.cli.main import main as cli_main
from ktstr.errors import KtstrError
from ktstr.compare.judge import IMPROVEMENT, INSUFFICIENT, NO_CHANGE, NOT_FINITE, Rule, compare, runs_needed
from ktstr.compare.load import CompareInputError, load_side
from ktstr.compare.significance import bootstrap_median_delta, mann_whitney_greater, median
from ktstr.wire.results import RunReport, TestOutcome
from ktstr.wire.status import Status


def _brute_force_p(a, b):
    """P(rank sum of b >= observed) by enumerating every split of the pooled samples."""
    pooled = list(a) + list(b)
    from ktstr.compare.significance import _midranks

    ranks = _midranks(pooled)
    obs = sum(ranks[len(a):])
    splits = list(itertools.combinations(range(len(pooled)), len(b)))
    hits = sum(1 for s in splits if sum(ranks[i] for i in s) >= obs - 1e-9)
    return hits / len(splits)


def test_mann_whitney_exact_values():
    assert mann_whitney_greater([1, 2, 3], [4, 5, 6]) == pytest.approx(1 / 20)
    assert mann_whitney_greater([4, 5, 6], [1, 2, 3]) == pytest.approx(1.0)
    assert mann_whitney_greater([1, 1, 1], [1, 1, 1]) == pytest.approx(1.0)
    assert mann_whitney_greater([], [1]) == 1.0


def test_mann_whitney_matches_enumeration_with_ties():
    rng = random.Random(7)
    for _ in range(40):
        n, m = rng.randint(1, 6), rng.randint(1, 6)
        a = [rng.choice([1, 2, 2, 3, 4]) for _ in range(n)]
        b = [rng.choice([2, 3, 3, 4, 5]) for _ in range(m)]
        assert mann_whitney_greater(a, b) == pytest.approx(_brute_force_p(a, b)), (a, b)


def test_normal_approximation_is_close_for_large_samples():
    from ktstr.compare.significance import _exact_upper_tail, _midranks, _normal_upper_tail

    rng = random.Random(3)
    a = [rng.gauss(0, 1) for _ in range(25)]
    b = [rng.gauss(0.5, 1) for _ in range(25)]
    ranks = _midranks(a + b)
    doubled = [int(round(2 * r)) for r in ranks]
    exact = _exact_upper_tail(doubled, 25, sum(doubled[25:]))
    approx = _normal_upper_tail(ranks, 25, 25, sum(ranks[25:]))
    assert abs(exact - approx) < 0.01


def test_bootstrap_is_seeded_and_covers_the_shift():
    a = [10.0, 11.0, 9.0, 10.5, 9.5]
    b = [20.0, 21.0, 19.0, 20.5, 19.5]
    lo, hi = bootstrap_median_delta(a, b)
    assert (lo, hi) == bootstrap_median_delta(a, b)
    assert lo <= 10.0 <= hi and lo > 0
    assert median([3, 1, 2, 4]) == 2.5


# --- runs as ktstr writes them -----------------------------------------------------------

def _result(stats_by_test, verdicts=None, suite="s"):
    outcomes = []
    for name, stats in stats_by_test.items():
        v = (verdicts or {}).get(name, Status.PASS)
        outcomes.append(TestOutcome(name=name, verdict=v, reason="why" if v == Status.FAIL else "ok",
                                    stats=dict(stats)))
    return RunReport(suite=suite, engine="qemu-tcg", outcomes=outcomes).to_json()


def _write_runs(root: Path, samples, key="cg_0.p99_wake_latency_us", extra=None, verdicts=None):
    """One result.json per sample, in run directories as `ktstr run --out` leaves them."""
    for i, value in enumerate(samples):
        stats = {key: value, "cg_0.total_iterations": 1000.0, **(extra or {})}
        d = root / f"run{i}"
        d.mkdir(parents=True)
        (d / "result.json").write_text(json.dumps(_result({"fair": stats}, verdicts)))
    return root


def test_same_distribution_is_no_regression(tmp_path):
    rng = random.Random(1)
    a = _write_runs(tmp_path / "a", [rng.gauss(1000, 50) for _ in range(5)])
    b = _write_runs(tmp_path / "b", [rng.gauss(1000, 50) for _ in range(5)])
    c = compare(load_side([a]), load_side([b]))
    assert c.outcome == "OK", c.regressions
    m = next(m for m in c.tests[0].metrics if m.stat == "worst.p99_wake_latency_us")
    assert m.verdict == NO_CHANGE


def test_slower_candidate_is_a_regression_and_faster_an_improvement(tmp_path):
    a = _write_runs(tmp_path / "a", [1000, 1040, 980, 1010])
    b = _write_runs(tmp_path / "b", [2100, 1900, 2050, 2000])
    c = compare(load_side([a]), load_side([b]))
    assert c.outcome == "REGRESSION"
    assert c.regressions == ["fair: worst.p99_wake_latency_us"]
    m = c.tests[0].metrics[1]
    assert m.stat == "worst.p99_wake_latency_us" and m.p_worse == pytest.approx(1 / 70)
    assert c.family == 1  # the throughput does not vary: it is no test
    back = compare(load_side([b]), load_side([a]))
    assert back.outcome == "OK"
    assert back.tests[0].metrics[1].verdict == IMPROVEMENT


def test_throughput_drop_is_a_regression(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for root, its in ((a, [1000, 1010, 990]), (b, [700, 690, 720])):
        for i, n in enumerate(its):
            d = root / f"r{i}"
            d.mkdir(parents=True)
            (d / "result.json").write_text(json.dumps(_result({"t": {"cg_0.total_iterations": n}})))
    c = compare(load_side([a]), load_side([b]))
    assert c.regressions == ["t: sum.total_iterations"]


def test_small_changes_stay_below_threshold_and_floor(tmp_path):
    # Significant by rank (all of B above all of A) but only +5%: not a regression.
    a = _write_runs(tmp_path / "a", [1000, 1001, 1002, 1003])
    b = _write_runs(tmp_path / "b", [1050, 1051, 1052, 1053])
    assert compare(load_side([a]), load_side([b])).outcome == "OK"
    # +100% but 20 us of p99: under the 50 us noise floor.
    a = _write_runs(tmp_path / "a2", [20, 21, 19, 20])
    b = _write_runs(tmp_path / "b2", [40, 41, 39, 40])
    assert compare(load_side([a]), load_side([b])).outcome == "OK"


def test_too_few_runs_is_inconclusive(tmp_path):
    a = _write_runs(tmp_path / "a", [1000, 1010])
    b = _write_runs(tmp_path / "b", [5000, 5010])
    c = compare(load_side([a]), load_side([b]))
    assert c.outcome == "INCONCLUSIVE"
    assert c.tests[0].metrics[1].verdict == INSUFFICIENT  # 2 vs 2: the smallest p is 1/6
    assert runs_needed(c.alpha_each) == 3
    assert compare(load_side([a]), load_side([b]), Rule(alpha=0.2)).outcome == "REGRESSION"


def test_more_metrics_need_a_smaller_p(tmp_path):
    """Bonferroni: with 3 varying metrics, p must be <= 0.05/3; 4 vs 4 runs (1/70) still do,
    3 vs 3 (1/20) do not."""
    def extra(i):
        return {"cg_0.spread": 5.0 + i, "cg_0.max_gap_ms": 30.0 + i}

    for n, outcome in ((4, "REGRESSION"), (3, "INCONCLUSIVE")):
        a = tmp_path / f"a{n}"
        b = tmp_path / f"b{n}"
        for i in range(n):
            _write_runs(a / str(i), [1000 + i], extra=extra(i))
            _write_runs(b / str(i), [3000 + i], extra=extra(i))
        c = compare(load_side([a]), load_side([b]))
        assert c.family == 3 and c.outcome == outcome, c.regressions


def test_more_failures_in_b_is_a_regression(tmp_path):
    a = _write_runs(tmp_path / "a", [1000, 1000, 1000])
    b = _write_runs(tmp_path / "b", [1000, 1000, 1000], verdicts={"fair": Status.FAIL})
    c = compare(load_side([a]), load_side([b]))
    assert c.outcome == "REGRESSION"
    assert c.tests[0].verdict_regression.startswith("B failed 3/3 runs, A 0/3: why")


def test_bazel_runs_per_test_layout(tmp_path):
    """bazel test --runs_per_test=3 keeps run_<i>_of_3/test.outputs/outputs.zip per run."""
    target = tmp_path / "bazel-testlogs" / "sched" / "x_test"
    for i in range(1, 4):
        d = target / f"run_{i}_of_3" / "test.outputs"
        d.mkdir(parents=True)
        with zipfile.ZipFile(d / "outputs.zip", "w") as z:
            z.writestr("result.json", json.dumps(_result({"fair": {"cg_0.spread": float(i)}})))
            z.writestr("console.log", "boot\n")
    runs = load_side([target])
    assert [r.source.split("bazel-testlogs/")[1] for r in runs] == [
        f"sched/x_test/run_{i}_of_3/test.outputs/outputs.zip!result.json" for i in range(1, 4)]
    assert [r.tests["fair"].stats["cg_0.spread"] for r in runs] == [1.0, 2.0, 3.0]


def test_bad_inputs_name_the_path_and_the_fix(tmp_path):
    with pytest.raises(CompareInputError, match="no such file"):
        load_side([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CompareInputError, match="no result.json or outputs.zip"):
        load_side([tmp_path / "empty"])
    (tmp_path / "x.json").write_text('{"suite": 1}')
    with pytest.raises(CompareInputError, match="not a ktstr result"):
        load_side([tmp_path / "x.json"])
    with pytest.raises(ValueError, match="alpha"):
        Rule(alpha=2)


def test_cli_exit_codes_json_and_plots(tmp_path, capsys):
    a = _write_runs(tmp_path / "a", [1000, 1040, 980, 1010])
    same = _write_runs(tmp_path / "same", [1020, 990, 1005, 1000])
    slow = _write_runs(tmp_path / "slow", [2100, 1900, 2050, 2000])
    assert cli_main(["compare", str(a), str(same)]) == 0
    assert "OK: no regression" in capsys.readouterr().out
    plots = tmp_path / "plots"
    rc = cli_main(["compare", str(a), str(slow), "--json", str(tmp_path / "c.json"), "--plot-dir", str(plots)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "REGRESSION: 1 finding(s): fair: worst.p99_wake_latency_us" in out
    assert "!! worst.p99_wake_latency_us" in out
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["outcome"] == "REGRESSION" and data["regressions"] == ["fair: worst.p99_wake_latency_us"]
    png = plots / "compare-fair.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = png.read_bytes()
    cli_main(["compare", str(a), str(slow), "--plot-dir", str(plots)])
    assert png.read_bytes() == first  # deterministic output
    few = _write_runs(tmp_path / "few", [1000])
    assert cli_main(["compare", str(few), str(few)]) == 3
    assert cli_main(["compare", str(tmp_path / "nope"), str(a)]) == 2
    assert "nope: no such file" in capsys.readouterr().err


@pytest.mark.parametrize("nan_side", ["A", "B"])
def test_non_finite_stats_are_reported_not_dropped(tmp_path, capsys, nan_side):
    """Issue 22: B clearly slower (p = 1/924 with 6 runs a side), but 2 of the 6 runs of one
    side have a NaN p99. Before: NaN in A broke the ranks and said "no change" (p 0.001);
    NaN in B was silently dropped (4 runs judged). Now the metric is NOT FINITE, the runs
    are named, the outcome is INCONCLUSIVE (exit 3), never OK."""
    nan = float("nan")
    fast, slow = [1000, 1040, 980, 1010, 1020, 990], [2100, 2150, 2050, 2080, 1950, 2000]
    bad = [v if i not in (1, 3) else nan for i, v in enumerate(fast if nan_side == "A" else slow)]
    a = _write_runs(tmp_path / "a", bad if nan_side == "A" else fast)
    b = _write_runs(tmp_path / "b", bad if nan_side == "B" else slow)
    c = compare(load_side([a]), load_side([b]))
    m = next(m for m in c.tests[0].metrics if m.stat == "worst.p99_wake_latency_us")
    assert m.verdict == NOT_FINITE and c.outcome == "INCONCLUSIVE"
    assert [n.split(" (")[0] for n in m.nonfinite] == [f"{nan_side} run 2", f"{nan_side} run 4"]
    assert m.nonfinite[0].endswith("run1/result.json): nan")
    raw = next(m for m in c.tests[0].metrics if m.stat == "cg_0.p99_wake_latency_us")
    assert len(raw.a) == len(raw.b) == 6  # kept, not dropped
    assert cli_main(["compare", str(a), str(b), "--plot-dir", str(tmp_path / "plots")]) == 3
    out = capsys.readouterr().out
    assert "INCONCLUSIVE: non-finite values" in out and f"fair: worst.p99_wake_latency_us ({nan_side} run 2" in out
    # null (how strict JSON writers spell NaN) and Infinity count the same; a string is refused
    (tmp_path / "b" / "run1" / "result.json").write_text(
        json.dumps(_result({"fair": {"cg_0.p99_wake_latency_us": None}})))
    (tmp_path / "b" / "run3" / "result.json").write_text(
        json.dumps(_result({"fair": {"cg_0.p99_wake_latency_us": float("inf")}})))
    assert compare(load_side([a]), load_side([b])).outcome == "INCONCLUSIVE"
    (tmp_path / "b" / "run3" / "result.json").write_text(
        json.dumps(_result({"fair": {"cg_0.p99_wake_latency_us": "fast"}})))
    with pytest.raises(CompareInputError, match=r"run3/result.json: test fair: stat cg_0.p99_wake_latency_us is 'fa"):
        load_side([b])
    assert issubclass(CompareInputError, KtstrError)
