"""The CI budget gate (tools/ci/budget.py) fails where it must: a target without a row, a row
for a target CI does not run, and a table over budget; and it passes on one that fits."""

import pytest

from tools.ci import budget

FITS = "setup\t300\tsetup\n//kernels:default\t600\tkernel\n//sched:a_test\t120\ttest\n"


def test_a_fitting_table_passes():
    table = budget.parse_table(FITS)
    assert budget.check(table, {"//kernels:default", "//sched:a_test"}) == []
    assert budget.estimate_s(table) == 300 + 600 + 120 / budget.TEST_PARALLELISM


def test_a_target_without_a_row_fails():
    problems = budget.check(budget.parse_table(FITS), {"//kernels:default", "//sched:a_test", "//sched:new_test"})
    assert any("//sched:new_test: no row" in p for p in problems)


def test_a_row_for_a_target_ci_does_not_run_fails():
    problems = budget.check(budget.parse_table(FITS), {"//kernels:default"})
    assert any("//sched:a_test: in tools/ci/costs.tsv but not run" in p for p in problems)


def test_over_budget_fails():
    over = FITS + "//kernels:debug\t3000\tkernel\n"
    problems = budget.check(budget.parse_table(over), {"//kernels:default", "//kernels:debug", "//sched:a_test"})
    assert any("exceeds the budget" in p for p in problems)


@pytest.mark.parametrize("line, words", [
    ("//x:y\tabc\ttest", "not a number"),
    ("//x:y\t0\ttest", "no measurement"),
    ("//x:y\t10\tbogus", "kind 'bogus'"),
    ("//x:y\t10", "want 'target"),
])
def test_malformed_rows_are_named(line, words):
    with pytest.raises(budget.BudgetError, match=words):
        budget.parse_table(line)


def test_times_from_a_bazel_log():
    log = ("//sched:a_test    PASSED in 12.5s\n//sched:b_test  (cached) PASSED in 3.0s\n"
           "//sched:c_test   FAILED in 2 out of 2 in 40.0s\n//sched:d_test   TIMEOUT in 300.0s\n")
    assert budget.times_from_log(log) == {"//sched:a_test": 12.5, "//sched:d_test": 300.0}


def test_the_real_table_parses():
    table = budget.parse_table(budget.TABLE.read_text())
    assert budget.SETUP in table


def test_a_whole_machine_test_counts_whole():
    table = budget.parse_table(FITS + "//tests:consumer_test\t700\tserial\n")
    assert budget.estimate_s(table) == 300 + 600 + 700 + 120 / budget.TEST_PARALLELISM
