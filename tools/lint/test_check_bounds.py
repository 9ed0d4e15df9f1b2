"""No check that cannot fail: every check bound declared in the tree (catalogue entries,
@ktstr_test / declare_scheduler keywords, ktstr_test(checks = ...) and monitor options in
BUILD files) must be breakable by some input. A check that should not judge is switched off
with Off("why") and reported as "not checked: why". Reads the checkout, like the other lint
gates (tools/lint/source_tree.py)."""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any, Iterator

from ktstr.catalogue import CATALOGUE
from ktstr.checks.assertions import Assert, CheckBoundError, vacuous
from ktstr.host.discovery import list_tests
from ktstr.monitor.thresholds import MonitorThresholds
from tools.lint.source_tree import root

# Where tests, schedulers and targets are declared (third_party and outputs are not ours).
SCANNED = ["ktstr", "tests", "sched", "examples", "schedulers", "kernels", "vmm"]
# Sources that plant vacuous bounds on purpose, to show they are refused.
PLANTED = {Path(__file__).resolve()}


def _monitor_vacuous(name: str, value: Any) -> str:
    """The monitor's thresholds: a ratio of run-queue lengths, a DSQ depth, seconds and a
    sample count are finite bounds some run can break; only an infinite one cannot."""
    default = getattr(MonitorThresholds(), name, None)
    if isinstance(default, bool) or default is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return f"monitor {name}={value!r} is not a bound" if math.isinf(number) or math.isnan(number) else ""


def _files(root: Path, pattern: str) -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((root / top).rglob(pattern)):
            if path.resolve() not in PLANTED and "bazel-" not in str(path):
                yield path


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _check_options(checks: dict[str, Any], where: str) -> list[str]:
    problems = []
    for name, value in checks.items():
        if isinstance(value, str):
            try:
                Assert.from_dict({name: value})
            except CheckBoundError as exc:
                problems.append(f"{where}: {exc}")
            except (ValueError, TypeError):
                pass  # not a bound (the rule refuses it on its own)
        elif (why := vacuous(name, value)):
            problems.append(f"{where}: {why}")
    return problems


def _monitor_options(options: Any, where: str) -> list[str]:
    if not isinstance(options, dict):
        return []
    return [f"{where}: {why}" for k, v in options.items() if (why := _monitor_vacuous(k, v))]


def vacuous_bounds(root: Path) -> list[str]:
    """Every declared check in the tree under `root` that can never fail, named with where."""
    problems: list[str] = []
    knobs = set(Assert.knobs())
    for src in _files(root, "*.py"):
        try:
            declared = list_tests(src)
        except Exception:  # noqa: BLE001 - not a test source (or not Python 3 syntax): nothing declared
            continue
        for t in declared:
            where = f"{src.relative_to(root)}: {t.name}"
            problems += _check_options({k: v for k, v in t.options.items() if k in knobs}, where)
            problems += _monitor_options(t.options.get("monitor"), where)
    for build in [*_files(root, "BUILD.bazel"), *_files(root, "*.bzl")]:
        try:
            tree = ast.parse(build.read_text())
        except SyntaxError:
            continue  # Starlark Python cannot parse: no literal dicts to read there
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                where = f"{build.relative_to(root)}:{node.lineno}"
                if kw.arg == "checks" and isinstance(value := _literal(kw.value), dict):
                    problems += _check_options(value, where)
                elif kw.arg == "monitor":
                    problems += _monitor_options(_literal(kw.value), where)
    return problems


def test_no_declared_check_in_the_tree_can_never_fail():
    assert vacuous_bounds(root()) == []


def test_catalogue_entries_declare_breakable_bounds_or_say_why_not():
    for name, entry in CATALOGUE.items():
        if entry.assert_ is None:
            continue
        for knob in Assert.knobs():
            assert not vacuous(knob, getattr(entry.assert_, knob)), name
        assert all(why.strip() for _, why in entry.assert_.unchecked), name


def test_a_planted_vacuous_bound_is_found(tmp_path):
    # The scan above would pass on a tree it cannot read: show it catches each form.
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.py").write_text(
        "from ktstr import ktstr_test\n\n"
        "@ktstr_test(llcs=1, max_spread_pct=100.0, monitor={'max_imbalance_ratio': float('inf')})\n"
        "def spread_never_fails(ctx):\n    pass\n\n"
        "@ktstr_test(min_work_rate=0)\n"
        "def rate_never_fails(ctx):\n    pass\n")
    (tmp_path / "tests" / "BUILD.bazel").write_text(
        'ktstr_test(name = "x", checks = {"max_spread_pct": "150", "min_page_locality": "0"},\n'
        '           monitor = {"max_imbalance_ratio": "inf"})\n')
    found = vacuous_bounds(tmp_path)
    assert any("spread_never_fails" in p and "percentage never exceeds 100" in p for p in found)
    assert any("rate_never_fails" in p and "min_work_rate=0" in p for p in found)
    assert any("BUILD.bazel:1" in p and "max_spread_pct=150" in p for p in found)
    assert any("BUILD.bazel:1" in p and "min_page_locality=0" in p for p in found)
    assert any("BUILD.bazel:1" in p and "monitor max_imbalance_ratio='inf'" in p for p in found)
    # (the decorator's float('inf') is not a literal: the guest refuses nothing there, but
    # the monitor option is read by the host, which coerces it; a literal 'inf' string is.)
