"""Telemetry math, default assertions and their merge, claims and their labels."""

import math

import pytest

from ktstr.checks import Assert, AssertResult, CgroupStats, Off, Claims, claim, median, percentile
from ktstr.checks.assertions import CheckBoundError
from ktstr.workload.types import WorkerReport


def report(iterations=100, cpu_ns=900, wall_ns=1000, cpus=(0,), gap=5.0, wakes=()):
    return WorkerReport(pid=1, work_type="spin_wait", iterations=iterations, cpu_time_ns=cpu_ns,
                        wall_time_ns=wall_ns, cpus_used=list(cpus), max_gap_ms=gap,
                        wake_latencies_us=list(wakes))


def test_percentile_is_nearest_rank():
    samples = list(range(1, 101))
    assert percentile(samples, 0.99) == 99
    assert percentile(samples, 0.5) == 50
    assert percentile([], 0.99) == 0.0
    assert median([3, 1, 2]) == 2


def test_cgroup_stats_aggregate_workers():
    s = CgroupStats.from_reports("cg", [report(10, 500, 1000, (0, 1), 3.0, (10, 20)),
                                        report(30, 900, 1000, (1,), 7.0, (30,))])
    assert s.num_workers == 2 and s.num_cpus == 2 and s.total_iterations == 40
    assert s.min_iterations == 10
    assert math.isclose(s.spread, 40.0)  # 50% vs 10% off-CPU
    assert s.max_gap_ms == 7.0 and s.wake_samples == 3
    assert s.median_wake_latency_us == 20 and s.wake_latency_tail_ratio() == 1.5


def test_starved_worker_fails():
    r = Assert.default_checks().check([(CgroupStats.from_reports("cg", [report(0), report(5)]), None)])
    assert not r.passed and "starved" in r.reason


def test_isolation_names_the_stray_cpus():
    cg = CgroupStats.from_reports("iso", [report(cpus=(0, 3))])
    r = Assert.default_checks().check([(cg, [0, 1])])
    assert not r.passed and "[3]" in r.reason and "[0, 1]" in r.reason


def test_spread_and_gap_bounds_fail_as_labelled_claims():
    cg = CgroupStats.from_reports("cg", [report(cpu_ns=100), report(cpu_ns=1000, gap=9000.0)])
    r = Assert.default_checks().check([(cg, None)])
    labels = {c.label: c for c in r.claims}
    assert labels["cg.spread"].bound == "<= 35" and not labels["cg.spread"].passed
    assert labels["cg.max_gap_ms"].value == "9000"


def test_merge_last_set_value_wins_and_false_disables():
    merged = Assert.default_checks().merge(Assert(max_gap_ms=10_000.0)).merge(Assert(isolation=False))
    assert merged.max_gap_ms == 10_000.0 and merged.isolation is False
    assert merged.not_starved is True  # untouched by the later layers
    cg = CgroupStats.from_reports("cg", [report(gap=9000.0, cpus=(5,))])
    assert merged.check([(cg, [0])]).passed


def test_field_claims_take_the_field_name():
    cg = CgroupStats.from_reports("cg_0", [report(iterations=7)])
    v = Claims()
    v.claim(cg).total_iterations.at_least(1000)
    v.claim(cg).max_gap_ms.between(0, 10)
    r = v.into_result()
    assert not r.passed
    assert [c.label for c in r.claims] == ["cg_0.total_iterations"]
    assert r.claims[0].value == "7" and r.claims[0].bound == ">= 1000"


def test_expression_claims_take_the_source_text():
    cg = CgroupStats.from_reports("cg", [report(wakes=(10, 20, 30))])
    v = Claims()
    claim(v, cg.wake_latency_tail_ratio() * 10).at_most(1.0)
    claim(v, float("nan")).is_finite()
    r = v.into_result()
    labels = [c.label for c in r.claims]
    assert labels == ["cg.wake_latency_tail_ratio() * 10", 'float("nan")']


def test_equals_and_passing_claims_are_recorded():
    v = Claims()
    claim(v, 2 + 2).equals(4)
    assert v.records[0].passed and v.into_result().passed


def test_result_merge_and_status():
    a = AssertResult.fail("first", "d1")
    b = AssertResult.skip("not here")
    m = a.merge(b)
    assert m.status == "FAIL" and m.reason == "first"
    assert AssertResult.skip("x").status == "SKIP"


def test_default_limits_are_looser_under_an_emulator():
    tcg, kvm = Assert.default_checks(emulated=True), Assert.default_checks(emulated=False)
    assert (tcg.max_spread_pct, tcg.max_gap_ms) == (35.0, 3000.0)
    assert (kvm.max_spread_pct, kvm.max_gap_ms) == (15.0, 2000.0)
    assert Assert.default_checks() == tcg  # without word from the host: the safe side


def test_work_rate_throughput_and_wake_cv_knobs():
    fast = report(iterations=100, cpu_ns=10**9, wall_ns=10**9, wakes=(10, 10))
    slow = report(iterations=100, cpu_ns=10**9, wall_ns=10**9, wakes=(10, 1000))
    fast.work_units, slow.work_units = 1000, 100
    cg = CgroupStats.from_reports("cg", [fast, slow])
    assert cg.min_work_rate == 100 and math.isclose(cg.throughput_cv, 450 / 550)
    assert cg.min_iteration_rate == 100 and cg.wake_latency_cv > 1.0
    checks = Assert(min_work_rate=500, max_throughput_cv=0.5, max_wake_latency_cv=1.0,
                    min_iteration_rate=50)
    r = checks.check([(cg, None)])
    failed = sorted(c.label for c in r.claims)
    assert failed == ["cg.min_work_rate", "cg.throughput_cv", "cg.wake_latency_cv"], failed


def test_page_locality_counts_pages_on_the_nodes_a_worker_ran_on():
    r = report(cpus=(0,))
    r.numa_pages = {"0": 30, "1": 10}
    cg = CgroupStats.from_reports("cg", [r], cpu_nodes={0: 0, 1: 1})
    assert cg.page_locality == 0.75
    res = Assert(min_page_locality=0.9).check([(cg, None)])
    assert not res.passed and "cg.page_locality = 0.75, expected >= 0.9" in res.reason


def test_hot_loop_implementations_are_counted():
    native, python, none = report(), report(), report()
    native.hot_loop, python.hot_loop = "native", "python"
    cg = CgroupStats.from_reports("cg", [native, python, none])
    assert (cg.native_workers, cg.python_workers) == (1, 1)
    assert cg.as_metrics()["cg.python_workers"] == 1.0


def test_checks_from_a_name_map_refuse_unknown_names():
    a = Assert.from_dict({"max_gap_ms": "5000", "isolation": "false"})
    assert a.max_gap_ms == 5000.0 and a.isolation is False
    with pytest.raises(ValueError, match="unknown check max_gapms; valid: not_starved"):
        Assert.from_dict({"max_gapms": 1})


def test_off_switches_a_check_off_with_its_reason_and_refuses_vacuous_bounds():
    with pytest.raises(CheckBoundError, match="percentage never exceeds 100"):
        Assert(max_spread_pct=100.0)
    with pytest.raises(CheckBoundError, match="say why"):
        Off(" ")
    checks = Assert.default_checks().merge(Assert(max_spread_pct=Off("shares differ by design")))
    assert checks.max_spread_pct is None
    result = checks.check([])
    assert result.passed and result.not_checked == ["max_spread_pct: shares differ by design"]
    assert result.failures == []
    # A later layer with a bound switches it back on.
    assert checks.merge(Assert(max_spread_pct=20.0)).unchecked == ()
    assert Assert.from_dict({"max_spread_pct": "off: measured elsewhere"}).unchecked == (
        ("max_spread_pct", "measured elsewhere"),)
