"""The monitor's word in the verdicts: failures fail their own test with the samples as
evidence, a monitor that cannot run changes nothing and says why, bad options stop the run
before it boots, and `ktstr show` points at the picture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ktstr.host.engines import BootResult, BootSpec, ExitKind
from ktstr.host.discovery import DeclaredTest
from ktstr.wire.results import BootRecord, RunReport, TestOutcome, write_result
from ktstr.wire.status import Status
from ktstr.monitor.boot import MonitorReport
from ktstr.monitor.thresholds import MonitorConfigError, MonitorFailure
from ktstr.monitor.run import finish, plan, thresholds_resolver
from ktstr.monitor.sampler import CpuSample, Sample
from ktstr.monitor.verdict import apply_monitor
from ktstr.topology import Topology
from tests.monitor.synthetic import fake_layout


def _sample(t, test):
    return Sample(t, 100, "ENABLED", test, [CpuSample(0, 2, 5, 42, "spin", False, 2, 1, 6000.0, 7, "victim"),
                                            CpuSample(1, 0, 5, 0, "swapper/1", True, 0, 0)])


def test_a_live_stall_replaces_the_generic_hang_reason_and_keeps_the_guests_own():
    hung = TestOutcome("b", Status.FAIL, "guest ended (stopped) without a result for this test while running it")
    own = TestOutcome("a", Status.FAIL, "iso_0.spread = 40 (bound: 35)")
    passed = TestOutcome("c", Status.PASS, "guest reported success")
    stall = MonitorFailure("fail_on_stall", "b", "host monitor: runnable task stall: victim[7] runnable on "
                           "cpu0 for 6.00 s without running; per-CPU state: cpu0: ...", [_sample(2.0, "b").to_json()])
    imbalance = MonitorFailure("max_imbalance_ratio", "a", "host monitor: max_imbalance_ratio: ...")
    rep = MonitorReport("sampled", hz=10, attach_s=2.0, nr_cpus=2, samples=[_sample(1.0, "a"), _sample(2.0, "b")],
                        failures=[stall, imbalance])
    apply_monitor([own, hung, passed], rep, vm_ended_early=True, picture="timeline.png")
    assert hung.verdict == Status.FAIL
    assert hung.reason == "host monitor: runnable task stall: victim[7] runnable on cpu0 for 6.00 s without running"
    assert any("per-CPU state: cpu0" in d for d in hung.details)
    assert any(d.startswith("host monitor, last sample at t=2.00 s (sched_ext ENABLED): cpu0: running spin[42]")
               for d in hung.details)
    assert any("per-CPU timeline: timeline.png" in d for d in hung.details)
    assert own.reason.startswith("iso_0.spread = 40") and "[host monitor: max_imbalance_ratio" in own.reason
    assert passed.verdict == Status.PASS  # the monitor found nothing against it


def test_a_monitor_that_could_not_run_changes_no_verdict():
    o = TestOutcome("a", Status.PASS, "guest reported success")
    apply_monitor([o], MonitorReport("not_attached", "the booted kernel does not match ..."), False)
    assert o.verdict == Status.PASS
    assert o.details == ["host monitor not_attached: the booted kernel does not match ..."]


def _spec(tmp_path):
    return BootSpec(Path("bzImage"), (), "console=ttyS0", Topology.parse("1n1l2c1t"), 256, 10.0,
                    tmp_path / "console.log", tmp_path / "r.bin", tmp_path)


def test_plan_states_why_there_is_no_monitor(tmp_path):
    tests = [DeclaredTest("t", Path("x.py"))]
    spec, p = plan(_spec(tmp_path), None, {}, tests, "suite", emulated=True)
    assert spec.observer is None and p.report_if_none.status == "skipped"
    assert "no kernel layout given" in p.report_if_none.reason
    bad = tmp_path / "layout.json"
    bad.write_text("{not json")
    spec, p = plan(_spec(tmp_path), bad, {}, tests, "suite", emulated=True)
    assert "cannot read the kernel layout" in p.report_if_none.reason
    off = [DeclaredTest("t", Path("x.py"), {"monitor": {"enabled": False}})]
    spec, p = plan(_spec(tmp_path), bad, {}, off, "suite", emulated=True)
    assert (p.monitor, p.report_if_none) == (None, None)
    # Switched off, it says so in each test's report, with the reason when one is given.
    o = TestOutcome("t", Status.PASS, "ok")
    finish(p, ["t"], [o], None, tmp_path, "")
    assert o.not_checked == ["host monitor enabled: switched off by @ktstr_test(monitor=...) of t "
                             "(no reason given)"]
    why = [DeclaredTest("t", Path("x.py"), {"monitor": {"fail_on_stall": "off: the kernel's verdict is the point"}})]
    spec, p = plan(_spec(tmp_path), None, {}, why, "suite", emulated=True)
    o2 = TestOutcome("t", Status.PASS, "ok")
    finish(p, ["t"], [o2], None, tmp_path, "")
    assert o2.not_checked == ["host monitor fail_on_stall: the kernel's verdict is the point"]
    assert p.thresholds_for is not None and not p.thresholds_for("t").fail_on_stall


def test_plan_boots_a_kaslr_kernel_with_nokaslr(tmp_path):
    from dataclasses import replace
    lay = replace(fake_layout(tmp_path), kaslr=True)
    path = tmp_path / "layout.json"
    path.write_text(json.dumps(lay.to_json()))
    spec, p = plan(_spec(tmp_path), path, {}, [DeclaredTest("t", Path("x.py"))], "s", emulated=True)
    assert spec.cmdline.endswith(" nokaslr") and spec.observer is p.monitor
    assert p.monitor.hz == 10.0 and p.monitor.nr_cpus == 2


def test_bad_options_name_their_source():
    with pytest.raises(MonitorConfigError, match="monitor attribute of //sched:x: unknown monitor option 'stall'"):
        thresholds_resolver({"stall": "1"}, [], "//sched:x")
    t = DeclaredTest("t1", Path("x.py"), {"monitor": {"sustained_samples": 0}})
    with pytest.raises(MonitorConfigError, match=r"@ktstr_test\(monitor=...\) of t1: sustained_samples must be >= 1"):
        thresholds_resolver({}, [t], "s")
    resolve, _ = thresholds_resolver({"max_imbalance_ratio": "8"}, [
        DeclaredTest("t2", Path("x.py"), {"monitor": {"max_imbalance_ratio": 2.5}})], "s")
    assert resolve("t2").max_imbalance_ratio == 2.5 and resolve("other").max_imbalance_ratio == 8.0


def test_an_engine_that_cannot_share_is_a_stated_skip(tmp_path):
    lay = fake_layout(tmp_path)
    path = tmp_path / "layout.json"
    path.write_text(json.dumps(lay.to_json()))
    _, p = plan(_spec(tmp_path), path, {}, [DeclaredTest("t", Path("x.py"))], "s", emulated=True)
    p.monitor.engine_cannot_share("engine X cannot share guest RAM")
    o = TestOutcome("t", Status.PASS, "ok")
    boot = BootResult(ExitKind.POWEROFF, 1.0, b"", b"", "", "x")
    rep = finish(p, ["t"], [o], boot, tmp_path / "out", "")
    assert rep.status == "skipped" and o.verdict == Status.PASS
    assert o.details == ["host monitor skipped: engine X cannot share guest RAM"]
    assert json.loads((tmp_path / "out" / "monitor.json").read_text())["status"] == "skipped"


def test_ktstr_show_prints_the_monitor_summary_and_the_picture(tmp_path, capsys):
    from ktstr.cli.main import main
    (tmp_path / "timeline.png").write_bytes(b"\x89PNG")
    (tmp_path / "monitor.json").write_text("{}")
    boot = BootRecord("1n1l2c1t", ["t"], "poweroff", "qemu-tcg", 1.0, "", "console.log", "result-stream.bin",
                      monitor="host monitor: 40 samples at 10 Hz of 2 CPU(s), attached 2.1 s after start")
    write_result(RunReport("s", "qemu-tcg", [TestOutcome("t", Status.PASS, "ok")], [boot], 1.0),
                 tmp_path / "result.json")
    assert main(["show", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "boot 0 (1n1l2c1t): host monitor: 40 samples at 10 Hz" in out
    assert f"per-CPU timeline and samples: {tmp_path / 'timeline.png'}, {tmp_path / 'monitor.json'}" in out
