"""result.json (ktstr/wire/results.py): what the writer writes the reader reads back whole;
another schema, an unknown key or a wrong type is refused with the file and field named."""

from __future__ import annotations

import json
import math

import pytest

from ktstr.errors import KtstrError
from ktstr.wire.messages import ClaimRecord
from ktstr.wire.results import (SCHEMA, BootRecord, Finding, ResultFileError, ResultSchemaError, RunReport, Splat,
                                TestOutcome, parse_result, read_result, write_result)
from ktstr.wire.status import Status


def _report() -> RunReport:
    """Every field of every type set to something other than its default."""
    failed = TestOutcome(
        name="fair", verdict=Status.FAIL, reason="1 claim failed",
        failed_claims=[ClaimRecord("cg_0.spread", "47.7", "<= 35", passed=False)],
        details=["one", "two"], splats=[Splat("BUG", "BUG: held lock", ["ctx 1", "ctx 2"])],
        sched_ext_exit='BPF scheduler "x" disabled (error): stall', scheduler_output="loaded\n",
        duration_s=2.5, stats={"cg_0.spread": 47.68, "cg_0.p99": 12.0}, expected="never happened",
        sched_ext_dump="dump line", findings=[Finding("claim", "cg_0.spread = 47.7", Status.FAIL, "ev", "why")],
        not_checked=["max_gap_ms: noisy"])
    skipped = TestOutcome("other", Status.SKIP, "not on this kernel")
    boot = BootRecord("1n2l2c1t", ["fair", "other"], "poweroff", "qemu-tcg", 3.25, "tcg",
                      "console-1-1n2l2c1t.log", "result-stream-1-1n2l2c1t.bin", ["bad CRC"], ["sequence gap"],
                      "agent died", "host monitor: 40 samples")
    return RunReport("//sched:x_test", "qemu-tcg", [failed, skipped], [boot], 7.125)


def test_a_report_round_trips_through_the_file(tmp_path):
    report = _report()
    write_result(report, tmp_path / "result.json")
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["schema"] == SCHEMA and data["verdict"] == "FAIL"
    assert read_result(tmp_path / "result.json") == report
    assert report.boots[0].suffix == "-1-1n2l2c1t"


def test_non_finite_stats_are_kept():
    report = RunReport("s", "e", [TestOutcome("t", Status.PASS, "ok", stats={"a": math.nan, "b": math.inf})])
    data = report.to_json()
    data["tests"][0]["stats"]["c"] = None  # how strict JSON writers spell NaN
    stats = parse_result(json.dumps(data), "r.json").outcomes[0].stats
    assert math.isnan(stats["a"]) and stats["b"] == math.inf and math.isnan(stats["c"])


@pytest.mark.parametrize("schema", [None, 0, SCHEMA + 1, "1"])
def test_another_schema_is_refused_by_name(schema):
    data = _report().to_json()
    if schema is None:
        del data["schema"]
    else:
        data["schema"] = schema
    with pytest.raises(ResultSchemaError, match=rf"^old/result.json: .*this ktstr reads schema {SCHEMA} only"):
        parse_result(json.dumps(data), "old/result.json")
    assert issubclass(ResultSchemaError, KtstrError)


@pytest.mark.parametrize("where, key, message", [
    ((), "verdict_v2", r"r.json: unknown key\(s\) verdict_v2"),
    (("tests", 0), "status", r"r.json: test fair: unknown key\(s\) status"),
    (("boots", 0), "console", r"r.json: boots\[0\]: unknown key\(s\) console"),
    (("tests", 0, "findings", 0), "why", r"r.json: test fair: findings\[0\]: unknown key\(s\) why"),
])
def test_an_unknown_key_is_refused_not_skipped(where, key, message):
    """A renamed field fails loudly: it once silently turned every test into an unknown."""
    data = _report().to_json()
    node = data
    for step in where:
        node = node[step]
    node[key] = "x"
    with pytest.raises(ResultFileError, match=message):
        parse_result(json.dumps(data), "r.json")


@pytest.mark.parametrize("path, value, message", [
    (("tests", 0, "verdict"), "MAYBE", r"test fair: 'verdict' is 'MAYBE', not one of PASS"),
    (("tests", 0, "stats", "cg_0.p99"), "fast", r"test fair: stat cg_0.p99 is 'fast', not a number"),
    (("tests", 0, "details"), [1], r"test fair: 'details' is '\[1\]', not a list of strings"),
    (("boots", 0, "wall_s"), True, r"boots\[0\]: 'wall_s' is 'True', not a number"),
    (("tests", 1), 7, r"tests\[1\] is a JSON int, not an object"),
])
def test_a_wrong_type_is_refused_with_its_place(path, value, message):
    data = _report().to_json()
    node = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    with pytest.raises(ResultFileError, match=message):
        parse_result(json.dumps(data), "r.json")


def test_not_json_and_no_file_are_named(tmp_path):
    with pytest.raises(ResultFileError, match=r"r.json: not a ktstr result, not JSON"):
        parse_result("{", "r.json")
    with pytest.raises(ResultFileError, match=r"cannot read result .*nope.json"):
        read_result(tmp_path / "nope.json")
