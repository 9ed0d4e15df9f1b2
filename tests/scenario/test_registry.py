"""@ktstr_test and declare_scheduler: every keyword takes effect or is refused by name."""

import pytest

from ktstr.checks import Assert, AssertResult
from ktstr.scenario import Ctx, declare_scheduler, ktstr_test
from ktstr.scenario.registry import entry_problem


def test_unknown_keywords_are_refused_with_the_valid_ones():
    with pytest.raises(TypeError, match=r"durration: unknown \(did you mean duration\?\).*Valid keywords: numa_nodes"):
        ktstr_test(durration=2)
    with pytest.raises(TypeError, match="expect_fail is the Bazel target's"):
        ktstr_test(expect_fail="stall")
    with pytest.raises(TypeError, match="the scheduler binary is the Bazel target's"):
        declare_scheduler("scx_x", binary="scx_x")


def test_check_knobs_as_keywords_layer_over_assert():
    @ktstr_test(llcs=1, max_gap_ms=5000, isolation=False, assert_=Assert(max_spread_pct=50))
    def t(ctx):
        return AssertResult()

    a = t.ktstr_entry.assert_
    assert (a.max_gap_ms, a.isolation, a.max_spread_pct) == (5000, False, 50)
    s = declare_scheduler("scx_x", max_p99_wake_latency_us=100)
    assert s.assert_.max_p99_wake_latency_us == 100


def test_bad_values_are_refused():
    with pytest.raises(TypeError, match="cores=0: expected a positive int"):
        ktstr_test(cores=0)
    with pytest.raises(TypeError, match="memory_mib='1G'"):
        ktstr_test(memory_mib="1G")
    with pytest.raises(Exception, match="topology"):
        ktstr_test(topology="2x2")


def test_a_test_for_another_scheduler_or_memory_size_fails_with_the_reason():
    sched = declare_scheduler("scx_mine")

    @ktstr_test(scheduler=sched, memory_mib=64)
    def t(ctx):
        return AssertResult()

    ctx = Ctx(cgroups=None, topo=None, scheduler="eevdf")
    r = t(ctx)
    assert not r.passed and "declares scheduler 'scx_mine' but the VM runs 'eevdf'" in r.reason
    ctx.scheduler = "scx_mine"
    assert "asks memory_mib=64 but the VM has" in entry_problem(t.ktstr_entry, ctx)
