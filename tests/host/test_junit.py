import xml.etree.ElementTree as ET

from ktstr.host.junit import junit_xml
from ktstr.host.report import terminal_report
from ktstr.wire.messages import ClaimRecord
from ktstr.wire.results import Splat, TestOutcome
from ktstr.wire.status import Status


def _outcomes():
    return [
        TestOutcome("fair", Status.PASS, "guest reported success", duration_s=1.5),
        TestOutcome("gap", Status.FAIL, "1 claim failed",
                    failed_claims=[ClaimRecord("cg_0.max_gap_ms", "2500", "<= 2000")],
                    splats=[Splat("WARNING", "WARNING: CPU: 0 PID: 1 at x.c:1", ["Call Trace:"])],
                    sched_ext_exit="runnable task stall: x",
                    sched_ext_dump="kworker/u8:1[27] triggered exit kind 1026:\n  runnable task stall (x)\n"),
        TestOutcome("smt", Status.SKIP, "needs threads_per_core >= 2"),
        TestOutcome("noisy", Status.INCONCLUSIVE, "engine error: qemu\x01 missing"),
    ]


def test_one_testcase_per_function_with_status_elements():
    root = ET.fromstring(junit_xml("//sched:simple_test", _outcomes(), "console \x1b[0m tail"))
    suite = root.find("testsuite")
    assert suite.attrib["tests"] == "4"
    assert (suite.attrib["failures"], suite.attrib["errors"], suite.attrib["skipped"]) == ("1", "1", "1")
    cases = {c.attrib["name"]: c for c in suite.findall("testcase")}
    assert list(cases) == ["fair", "gap", "smt", "noisy"]
    assert list(cases["fair"]) == []
    failure = cases["gap"].find("failure")
    assert failure.attrib["message"] == "1 claim failed"
    assert "cg_0.max_gap_ms = 2500, expected <= 2000" in failure.text
    assert "sched_ext exit: runnable task stall: x" in failure.text
    assert "console tail" in failure.text
    assert cases["smt"].find("skipped").attrib["message"] == "needs threads_per_core >= 2"
    # control characters from consoles are shown escaped, the XML stays parseable
    assert cases["noisy"].find("error").attrib["message"] == "engine error: qemu\\x01 missing"


def test_guest_text_xml_cannot_carry_is_escaped_everywhere():
    """Issue 22: a test name with control characters, or evidence with U+FFFF or a lone
    surrogate (from a guest console), made test.xml ill-formed. Without the sanitizer,
    ET.fromstring raises ParseError here."""
    bad = "sel\x07ftest\uffff/\ud800x"
    outcomes = [TestOutcome(bad, Status.FAIL, f"said {bad}", details=[bad], scheduler_output=bad)]
    root = ET.fromstring(junit_xml(f"suite{bad}", outcomes, f"tail {bad}"))
    case = root.find("testsuite").find("testcase")
    assert case.attrib["name"] == "sel\\x07ftest\\uffff/\\ud800x"
    assert root.find("testsuite").attrib["name"] == "suite" + case.attrib["name"]
    assert "\\uffff" in case.find("failure").text


def test_terminal_report_fits_a_screen_and_points_at_logs(tmp_path):
    text = terminal_report("//sched:simple_test", _outcomes(), "qemu-tcg", 7.25,
                           "\n".join(f"line {i}" for i in range(100)), tmp_path)
    lines = text.splitlines()
    assert lines[0] == "ktstr //sched:simple_test: 1 PASS, 1 SKIP, 1 INCONCLUSIVE, 1 FAIL (qemu-tcg, 7.2 s)"
    assert any("claim: cg_0.max_gap_ms = 2500" in line for line in lines)
    dump_line = "    sched_ext dump: 2 lines in sched_ext_dump-gap.txt; first: kworker/u8:1[27] triggered"
    assert any(line.startswith(dump_line) for line in lines)
    assert "line 99" in text and "line 80" not in text
    assert lines[-1].startswith(f"full logs: {tmp_path}")
    assert len(lines) <= 50
