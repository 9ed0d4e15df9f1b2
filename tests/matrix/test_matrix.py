"""ktstr_matrix's plan (computed in Starlark at loading time) checked from the outside."""

from __future__ import annotations

import json
import subprocess
from itertools import combinations
from pathlib import Path

import pytest

HERE = Path("tests/matrix")
DIMS = ("kernel", "topology", "scheduler", "test")


def _plan(name: str) -> dict:
    path = HERE / f"{name}_plan.json"
    if not path.exists():
        pytest.skip(f"{path} is built by Bazel: bazel test //tests/matrix:matrix_test")
    return json.loads(path.read_text())


def features(cell: dict) -> set[str]:
    single = {f"{d}={cell[d]}" for d in DIMS}
    pairs = {f"{a}={cell[a]},{b}={cell[b]}" for a, b in combinations(DIMS, 2)}
    return single | pairs


def cost(plan: dict) -> float:
    booted: set[str] = set()
    total = 0.0
    for c in plan["cells"]:
        if c["selected"]:
            total += c["test_s"] + (0 if c["group"] in booted else c["boot_s"])
            booted.add(c["group"])
    return total


def test_budgeted_plan_is_within_budget_and_maximal():
    plan = _plan("toy_budget")
    cells = plan["cells"]
    assert plan["total"] == len(cells) == 2 * 3 * 2 * 3
    chosen = [c for c in cells if c["selected"]]
    assert 0 < len(chosen) < len(cells)
    assert cost(plan) == pytest.approx(plan["estimated_s"]) and plan["estimated_s"] <= plan["budget_s"]
    covered = set().union(*(features(c) for c in chosen))
    universe = set().union(*(features(c) for c in cells))
    assert plan["covered"] == len(covered) and plan["features"] == len(universe)
    assert plan["summary"] == f"selected {len(chosen)}/{len(cells)}, covered {len(covered)}/{len(universe)}"
    # Greedy stops only when nothing left both fits and adds a feature.
    booted = {c["group"] for c in chosen}
    for c in cells:
        if c["selected"]:
            continue
        extra = c["test_s"] + (0 if c["group"] in booted else c["boot_s"])
        assert not (features(c) - covered) or plan["estimated_s"] + extra > plan["budget_s"], c
    # Every kernel, topology, scheduler and test is covered at least once within 120 s.
    assert all(f"{d}={c[d]}" in covered for c in cells for d in DIMS)


def test_debug_kernel_cells_cost_more():
    plan = _plan("toy_budget")
    by = {(c["kernel"], c["topology"], c["scheduler"], c["test"]): c for c in plan["cells"]}
    a = by[("default", "tiny-1llc", "eevdf", "two_cgroup_fairness")]
    b = by[("debug", "tiny-1llc", "eevdf", "two_cgroup_fairness")]
    assert b["boot_s"] == pytest.approx(1.5 * a["boot_s"])
    assert a["boot_s"] == pytest.approx(8 * 4 / 2)  # boot_s 8 x (4 vCPUs / 2 host cores)


def test_no_budget_selects_everything_and_the_plan_prints():
    plan = _plan("toy_all")
    assert plan["selected"] == plan["total"] and plan["covered"] == plan["features"]
    out = subprocess.run(["sh", str(HERE / "toy_budget_plan.sh")], capture_output=True, text=True,
                         check=True).stdout
    summary = _plan("toy_budget")["summary"]
    assert out.startswith(f"ktstr_matrix toy_budget: {summary} (estimated ")
    assert "  x default    tiny-1llc" in out or "  x debug" in out
