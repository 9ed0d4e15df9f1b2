"""Known failures, one model matched per finding (ktstr/host/expectations.py)."""

import pytest

from ktstr.host.engines import ExitKind
from ktstr.host.evaluate import evaluate
from ktstr.host.expectations import Expectation, ExpectationError, expect_fail, judge, may_fail
from ktstr.wire.messages import GuestRun, GuestTestResult
from ktstr.wire.results import TestOutcome
from ktstr.wire.status import Status

STALL = (b'[ 3.0] sched_ext: BPF scheduler "qmap" disabled (runnable task stall)\n'
         b"[ 3.0] sched_ext: qmap: watchdog failed to check in for 5.004s\n")
BUG = (b"[ 4.0] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
       b"[ 4.0] Oops: 0002 [#1] PREEMPT SMP NOPTI\n")
OFF = b"[ 9.0] reboot: Power down\n"


def _judged(make_boot, console, expectations, result=None, name="t", exit_kind=ExitKind.POWEROFF):
    run = GuestRun(results={name: result} if result is not None else {}, finished=True)
    [o] = evaluate([name], make_boot(exit_kind, console, "ended"), run)
    return judge(o, expectations)


def test_known_stall_plus_an_unrelated_bug_fails_on_the_bug(make_boot, passed):
    o = _judged(make_boot, STALL + BUG + OFF, expect_fail("runnable task stall"), passed("t"))
    assert o.verdict == Status.FAIL
    assert o.reason.startswith("kernel BUG: [ 4.0] BUG: kernel NULL pointer dereference")
    assert "1 more uncovered" in o.reason  # the Oops is its own finding
    [stall] = [f for f in o.findings if f.kind == "sched_ext_exit"]
    assert stall.known == "expected failure 'runnable task stall'"
    # ... and the same with the stall as an intermittent finding.
    o2 = _judged(make_boot, STALL + BUG + OFF, may_fail(["runnable task stall"]), passed("t"))
    assert o2.verdict == Status.FAIL and "NULL pointer dereference" in o2.reason


def test_expected_finding_present_and_alone_passes_listed_as_known(make_boot, passed):
    o = _judged(make_boot, STALL + OFF, expect_fail("runnable task stall"), passed("t"))
    assert o.verdict == Status.PASS
    assert o.reason.startswith("known: expected failure 'runnable task stall': sched_ext: BPF scheduler")
    assert o.known_lines() == [f"known: expected failure 'runnable task stall': {o.findings[0].text}"]
    data = o.to_json()
    assert data["findings"][0]["known"] == "expected failure 'runnable task stall'"
    assert TestOutcome.from_json(data).findings == o.findings


def test_expected_text_absent_fails(make_boot, passed):
    o = _judged(make_boot, OFF, expect_fail("runnable task stall"), passed("t"))
    assert o.verdict == Status.FAIL
    assert o.reason == ("expected failure did not happen: no finding contains 'runnable task stall'; "
                        "got PASS: guest reported success")
    # A failure that is not the expected one fails with its own text.
    o2 = _judged(make_boot, BUG + OFF, expect_fail("runnable task stall"), passed("t"))
    assert o2.verdict == Status.FAIL and o2.reason.startswith("kernel BUG: ")
    assert "expected failure did not happen" in o2.reason


def test_intermittent_finding_absent_passes_and_says_so(make_boot, passed):
    o = _judged(make_boot, OFF, may_fail(["runnable task stall"]), passed("t"))
    assert o.verdict == Status.PASS and o.reason == "guest reported success"
    assert o.expected == "known intermittent 'runnable task stall' did not occur this run"


def test_two_findings_one_covered_fails_naming_the_other(make_boot, failed_claim):
    result = GuestTestResult("t", Status.FAIL, reason="2 failed", claims=[failed_claim],
                             details=[f"claim failed: {failed_claim}", "cg_1: starved: a worker made no progress"])
    o = _judged(make_boot, OFF, may_fail(["max_gap_ms"]), result)
    assert o.verdict == Status.FAIL
    assert o.reason == "cg_1: starved: a worker made no progress"
    claim = next(f for f in o.findings if f.kind == "claim")
    assert claim.known == "known intermittent 'max_gap_ms'"
    assert o.known_lines() == ["known: known intermittent 'max_gap_ms': claim failed: cg_0.max_gap_ms = 2500, "
                               "expected <= 2000"]
    assert o.expected is None


def test_an_expectation_for_one_test_does_not_cover_another(make_boot):
    console = b"[ 1.0] ktstr: test a begins\n" + STALL + b"[ 4.0] ktstr: test b begins\n" + STALL + OFF
    run = GuestRun(results={}, finished=True)
    a, b = evaluate(["a", "b"], make_boot(ExitKind.POWEROFF, console, "ended"), run)
    scoped = expect_fail("runnable task stall", tests=["a"])
    assert judge(a, scoped).verdict == Status.PASS
    assert judge(b, scoped).verdict == Status.FAIL and "runnable task stall" in b.reason
    assert not any(f.known for f in b.findings)  # untouched: nothing applies to b


def test_kind_restricts_what_a_text_covers(make_boot, passed):
    # "BUG: " as a claim text covers no kernel splat.
    o = _judged(make_boot, BUG + OFF, [Expectation.parse("claim|BUG: ", "r")], passed("t"))
    assert o.verdict == Status.FAIL
    o2 = _judged(make_boot, BUG + OFF, [Expectation.parse("splat|BUG: kernel NULL", "r"),
                                        Expectation.parse("splat|Oops: ", "r")], passed("t"))
    assert o2.verdict == Status.PASS
    with pytest.raises(ExpectationError, match="unknown finding kind 'splats'"):
        Expectation("x", "r", kinds=("splats",))
    with pytest.raises(ExpectationError, match="empty text"):
        Expectation(" * ", "r")
    with pytest.raises(ExpectationError, match="not the string"):
        may_fail("stall")


def test_wildcard_and_case(make_boot, failed_claim):
    result = GuestTestResult("t", Status.FAIL, reason="x", claims=[failed_claim],
                             details=[f"cgroup_steady: claim failed: {failed_claim}"])
    assert _judged(make_boot, OFF, may_fail(["CGROUP_STEADY: claim failed: *.max_gap_ms = "]),
                   result).verdict == Status.PASS
    result2 = GuestTestResult("t", Status.FAIL, reason="x", claims=[failed_claim],
                              details=[f"cgroup_other: claim failed: {failed_claim}"])
    assert _judged(make_boot, OFF, may_fail(["cgroup_steady: claim failed: *.max_gap_ms = "]),
                   result2).verdict == Status.FAIL


def test_consequences_of_an_ejection_follow_their_cause(make_boot, failed_claim):
    # The scheduler thrown out mid-test: the guest's claims after it are about EEVDF, and
    # are covered with the ejection ...
    result = GuestTestResult("t", Status.FAIL, reason="x", claims=[failed_claim],
                             details=[f"claim failed: {failed_claim}", "scheduler qmap died: exited 1"],
                             sched_ext_exit='BPF scheduler "qmap" disabled (runnable task stall): x')
    o = _judged(make_boot, STALL + OFF, expect_fail("runnable task stall"), result)
    assert o.verdict == Status.PASS
    assert [f.kind for f in o.findings] == ["sched_ext_exit", "claim", "guest"]
    assert all(f.known.startswith("consequence of sched_ext: ") for f in o.findings[1:])
    # ... but not when the ejection itself is not covered, and never a splat.
    o2 = _judged(make_boot, STALL + OFF, may_fail(["max_gap_ms"]), result)
    assert o2.verdict == Status.FAIL and o2.reason.startswith("sched_ext: ")
    o3 = _judged(make_boot, STALL + BUG + OFF, expect_fail("runnable task stall"), result)
    assert o3.verdict == Status.FAIL and o3.reason.startswith("kernel BUG: ")


def test_a_hang_alone_is_its_own_finding_and_after_a_splat_its_consequence(make_boot):
    hung = _judged(make_boot, b"", expect_fail("guest hung"), exit_kind=ExitKind.TIMEOUT)
    assert hung.verdict == Status.PASS and hung.findings[0].kind == "timeout"
    panic = b"[ 2.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\n"
    o = _judged(make_boot, panic, expect_fail("Attempted to kill init"), exit_kind=ExitKind.CRASH)
    assert o.verdict == Status.PASS
    assert [f.kind for f in o.findings] == ["crash", "splat"]
    assert o.findings[0].known.startswith("consequence of kernel panic")


def test_a_failing_verdict_without_findings_is_still_judged():
    o = TestOutcome("t", Status.FAIL, "verifier rejected x (EACCES): R0 invalid mem access")
    assert judge(o, expect_fail("R0 invalid mem access")).verdict == Status.PASS
    o2 = TestOutcome("t", Status.FAIL, "verifier rejected x (EACCES): R0 invalid mem access")
    assert judge(o2, expect_fail("something else")).verdict == Status.FAIL


def test_inconclusive_stays_inconclusive_unless_covered(make_boot, passed):
    run = GuestRun(results={"t": passed("t")}, stream_errors=["bad CRC in frame at offset 40"], finished=True)
    [o] = evaluate(["t"], make_boot(), run)
    assert judge(o, may_fail(["stall"])).verdict == Status.INCONCLUSIVE
    [o2] = evaluate(["t"], make_boot(), run)
    assert judge(o2, expect_fail("bad CRC in frame")).verdict == Status.PASS


def test_no_expectation_leaves_the_outcome_alone(make_boot, passed):
    o = _judged(make_boot, BUG + OFF, [], passed("t"))
    assert o.verdict == Status.FAIL and o.expected is None and not any(f.known for f in o.findings)


def test_starlark_and_json_forms_round_trip():
    # ktstr_test writes {"text": "KIND|text", ...} (rules/private/ktstr_test.bzl _expectations).
    e = Expectation.from_json({"text": "splat|x", "reason": "r", "tests": ["a"], "required": True})
    assert (e.kinds, e.text, e.tests, e.required) == (("splat",), "x", ("a",), True)
    assert Expectation.from_json(e.to_json()) == e
    assert Expectation.from_json({"text": "a|b", "reason": "r"}).text == "a|b"  # not a kind: plain text
    with pytest.raises(ExpectationError, match="unknown key"):
        Expectation.from_json({"text": "x", "reasn": "r"})


def test_known_findings_and_unchecked_checks_are_in_every_report(make_boot, passed):
    from ktstr.host.junit import junit_xml
    from ktstr.host.report import terminal_report

    o = _judged(make_boot, STALL + OFF, expect_fail("runnable task stall"), passed("t"))
    o.not_checked = ["max_spread_pct: unequal shares are the point"]
    text = terminal_report("s", [o], "qemu-tcg", 1.0, "", None)
    assert "known: expected failure 'runnable task stall': sched_ext: BPF" in text
    assert "not checked: max_spread_pct: unequal shares are the point" in text
    xml = junit_xml("s", [o]).decode()
    assert "<system-out>known: expected failure" in xml and "not checked: max_spread_pct" in xml
    failed = _judged(make_boot, STALL + BUG + OFF, expect_fail("runnable task stall"), passed("t"))
    assert "known: expected failure 'runnable task stall'" in junit_xml("s", [failed]).decode()


def test_a_corrupt_stream_is_one_finding_however_many_parts_broke(make_boot):
    # As //tests/host:corrupt_frame_is_reported_test's guest does it: garbage, then a bad CRC.
    errors = ["10 byte(s) of garbage at offset 0 before a frame", "bad CRC in frame at offset 10"]
    [o] = evaluate(["t"], make_boot(), GuestRun(stream_errors=errors, finished=True))
    assert [f.kind for f in o.findings] == ["no_result", "stream"]
    assert judge(o, expect_fail("bad CRC in frame")).verdict == Status.PASS
