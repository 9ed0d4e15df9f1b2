"""The scenario driver on the host, over a cgroup-v2-like file tree (the file protocol; real
cgroups are exercised in the VM by //tests/breadth): work groups, host workers, loop holds,
payload metrics and bounds."""

import sys

import pytest

from ktstr.checks import Assert
from ktstr.scenario import CgroupManager, Ctx
from ktstr.scenario.execute import ScenarioRun, execute_steps
from ktstr.scenario.model import Backdrop, CgroupDef, HoldSpec, Op, Payload, Step, Work
from ktstr.topology import SysTopology
from ktstr.workload import WorkType


@pytest.fixture
def ctx(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "cgroup.controllers").write_text("cpuset cpu\n")
    (tmp_path / "t" / "cgroup.subtree_control").write_text("")
    return Ctx(cgroups=CgroupManager(parent="t", root=tmp_path), topo=SysTopology.read(), duration=0.6,
               assert_=Assert(not_starved=True))


def test_several_work_groups_in_one_cgroup_and_host_workers(ctx, tmp_path):
    d = CgroupDef("cg_0").workers(1).work("mixed").with_work(Work(WorkType.CACHE_YIELD, 2, (("cache_kb", 8),)))
    result = execute_steps(ctx, [Step([d, Op.spawn_host(Work(WorkType.SPIN_WAIT, 1))])])
    assert result.passed, result.details
    assert result.stats["cg_0.num_workers"] == 3 and result.stats["host.num_workers"] == 1
    # the cgroup's workers were written to its cgroup.procs (the host one's were not)
    assert (tmp_path / "t" / "cg_0" / "cgroup.procs").exists()
    assert not (tmp_path / "t" / "host").exists()


def test_a_loop_hold_reapplies_its_ops(ctx):
    run = ScenarioRun(ctx)
    ctx.cgroups.setup()
    step = Step([CgroupDef("cg_0").workers(1), Op.set_nice("cg_0", 3)], HoldSpec.loop(0.1, 1.0))
    calls = []
    real = run._op_set_nice
    run._op_set_nice = lambda op: (calls.append(op), real(op))
    try:
        run.run_step(step)
        run.finish()
    finally:
        run.kill_all()
    # every 0.1 s of 0.6 s, not at the start, none in the last interval: 0.1 .. 0.5
    assert 3 <= len(calls) <= 5, len(calls)


def test_payload_metrics_are_extracted_and_bounds_judged(ctx):
    script = "import time; print('Time: 0.25'); print('ops 1234 /s')"
    ok = Payload("py", [sys.executable, "-c", script],
                 metrics={"time_s": r"^Time: ([\d.]+)", "ops": r"ops (\d+)"},
                 bounds={"time_s": (None, 1.0), "ops": (1000, None)})
    bad = Payload("py_bad", [sys.executable, "-c", script], metrics={"ops": r"ops (\d+)"},
                  bounds={"ops": (5000, None)})
    steps = [Step([CgroupDef("cg_0").workers(1), Op.run_payload(ok, "cg_0"), Op.run_payload(bad)],
                  HoldSpec.frac(0.5)),
             Step([Op.wait_payload("py"), Op.wait_payload("py_bad")], HoldSpec.frac(0.5))]
    result = execute_steps(ctx, steps)
    assert result.stats["payload.py.time_s"] == 0.25 and result.stats["payload.py.ops"] == 1234
    assert result.stats["payload.py.killed"] == 0.0
    assert not result.passed
    assert [str(c) for c in result.claims] == ["payload.py_bad.ops = 1234, expected >= 5000"]


def test_a_killed_backdrop_payload_and_a_missing_metric(ctx):
    sleeper = Payload("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                      metrics={"x": r"x=(\d+)"}, bounds={"x": (0, None)})
    result = execute_steps(ctx, [Step([CgroupDef("cg_0").workers(1)])], Backdrop(payloads=[sleeper]))
    assert not result.passed and "payload.sleeper.x: not found in the output" in result.reason
    assert result.stats["payload.sleeper.killed"] == 1.0 and result.stats["payload.sleeper.exit_code"] == -9.0


def test_payload_bounds_need_a_metric():
    with pytest.raises(ValueError, match="bounds on y, which no metric regex extracts"):
        Payload("p", ["true"], metrics={"x": "(1)"}, bounds={"y": (0, 1)})


def test_waiting_for_an_unknown_payload_names_the_started_ones(ctx):
    run = ScenarioRun(ctx)
    with pytest.raises(KeyError, match="no payload 'nope' was started"):
        run.apply(Op.wait_payload("nope"))
