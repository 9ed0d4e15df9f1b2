import json
import os
import subprocess
import sys
from pathlib import Path

from ktstr.host.discovery import DeclaredTest
from ktstr.host.jobs import Command, Scenarios
from ktstr.host.plan import PlannedBoot, layer_files, plan_boots, run_config
from ktstr.host.request import RunRequest
from ktstr.host.run_layer import RUN_JSON_PATH, cpio_newc
from ktstr.topology import Topology
from ktstr.wire.defaults import SELFTESTS, TEST
from ktstr.wire.run_config import EEVDF, GuestOptions, RunConfig, SchedulerSpec


def _t(name, **opts):
    return DeclaredTest(name, Path("/src/scenarios.py"), opts)


def test_tests_sharing_a_topology_share_a_vm():
    tests = [_t("a", llcs=1, cores=2), _t("b"), _t("c", llcs=2, cores=2), _t("d", llcs=1, cores=2)]
    plan = plan_boots(tests, "")
    assert [(b.topology, [t.name for t in b.tests]) for b in plan] == [
        ("1n1l2c1t", ["a", "b", "d"]), ("1n2l2c1t", ["c"])]
    # the target's topology attribute overrides every test's own
    assert [b.topology for b in plan_boots(tests, "1n2l1c2t")] == ["1n2l1c2t"]


def test_run_json_and_layer_carry_tests_and_scheduler(tmp_path):
    src = tmp_path / "scenarios.py"
    src.write_text("x = 1\n")
    binary = tmp_path / "scx_simple"
    # A real dynamically linked program stands in for the loader: its libraries must ride along.
    binary.write_bytes(Path(os.path.realpath(sys.executable)).read_bytes())
    sched = SchedulerSpec("scx_simple", str(binary), ("-s", "5000"), "simple", init_cpu=0)
    tests = [DeclaredTest("fair", src, {})]
    cfg = run_config("//sched:s", "1n1l2c1t", tests, sched, GuestOptions(duration_s=1.5)).to_json()
    assert cfg["tests"] == [{"name": "fair", "file": "/ktstr/tests/scenarios.py"}]
    assert cfg["scheduler"] == {"name": "scx_simple", "binary": "/ktstr/sched/scx_simple",
                                "args": ["-s", "5000"], "ops_name": "simple", "init_cpu": 0}
    assert cfg["topology"] == "1n1l2c1t" and cfg["duration_s"] == 1.5
    assert RunConfig.from_json(json.loads(json.dumps(cfg))).tests[0].name == "fair"  # the guest's read
    layer = cpio_newc(layer_files(tests, sched))
    names = subprocess.run(["cpio", "-it"], input=layer, capture_output=True, check=True).stdout.decode().split()
    assert "ktstr/tests/scenarios.py" in names and "ktstr/sched/scx_simple" in names
    assert any(n.endswith("/libc.so.6") for n in names), "scheduler's shared libraries missing"
    assert run_config("//sched:e", "1n1l2c1t", tests, EEVDF).to_json()["scheduler"] is None
    assert RUN_JSON_PATH == "ktstr/run.json"


def test_scenario_layer_is_written_with_the_engine_trait(tmp_path):
    src = tmp_path / "scenarios.py"
    src.write_text("x = 1\n")
    payload = Scenarios([DeclaredTest("fair", src, {})])
    [boot] = payload.plan("")
    layer = payload.write_layer(tmp_path / "boot0", boot, "//s", emulated=False)
    out = subprocess.run(["cpio", "-i", "--to-stdout", RUN_JSON_PATH], input=layer.read_bytes(),
                         capture_output=True, check=True).stdout
    assert json.loads(out)["emulated"] is False


def test_payloads_shard_and_plan():
    tests = Scenarios([_t("a"), _t("b"), _t("c")])
    assert tests.shard(1, 2).names() == ["b"] and tests.shard(0, 2).names() == ["a", "c"]
    assert Scenarios([_t("a")]).shard(1, 2) is None
    cmd = Command(Path("runner"), ("-t", "x"))
    assert cmd.shard(0, 3) is cmd and cmd.shard(1, 3) is None  # one program run, in shard 0
    assert cmd.plan("tiny-2llc") == [PlannedBoot("1n2l2c1t", [])] and cmd.names() == []


def test_memory_default_follows_each_boots_topology():
    req = RunRequest("s", Path("k"), [], Scenarios([]))
    assert req.memory_for("1n1l2c1t") == 1024
    assert req.memory_for("2n4l8c2t") == 64 * 64 == TEST.memory_for(Topology.parse("2n4l8c2t").cpus)
    assert RunRequest("s", Path("k"), [], Scenarios([]), memory_mib=256).memory_for("2n4l8c2t") == 256


def test_each_job_kind_has_its_own_defaults():
    # An unset timeout or memory is the payload's job kind's (ktstr.wire.defaults), whoever
    # built the request.
    scenarios = RunRequest("s", Path("k"), [], Scenarios([]))
    selftests = RunRequest("s", Path("k"), [], Command(Path("runner")))
    assert scenarios.timeout_s == TEST.vm_timeout_s == 120 and selftests.timeout_s == SELFTESTS.vm_timeout_s == 240
    assert selftests.memory_for("2n4l8c2t") == SELFTESTS.memory_mib == 512
    assert RunRequest("s", Path("k"), [], Command(Path("runner")), timeout_s=7).timeout_s == 7


def test_a_tests_memory_mib_gets_its_own_vm():
    tests = [_t("a"), _t("b", memory_mib=512), _t("c", memory_mib=512), _t("d", memory_mib=0)]
    plan = plan_boots(tests, "")
    assert [(b.memory_mib, [t.name for t in b.tests]) for b in plan] == [(None, ["a", "d"]), (512, ["b", "c"])]
    import pytest

    from ktstr.host.discovery import DiscoveryError

    with pytest.raises(DiscoveryError, match="memory_mib='1G' must be a literal number of MiB"):
        plan_boots([_t("e", memory_mib="1G")], "")


def test_target_checks_and_watchdog_reach_run_json(tmp_path):
    src = tmp_path / "t.py"
    src.write_text("")
    cfg = {"suite": "//x:y", "kernel": "bzImage", "srcs": [str(src)], "checks": {"max_gap_ms": "5000"},
           "watchdog_timeout_s": "2.5", "vm_timeout_s": 90}
    req = RunRequest.from_bazel_config(cfg, {"TEST_TMPDIR": str(tmp_path)})
    config = run_config("s", "1n1l2c1t", [], EEVDF, req.payload.options)
    back = RunConfig.from_json(json.loads(json.dumps(config.to_json())))
    assert back.checks == {"max_gap_ms": "5000"} and back.watchdog_timeout_s == 2.5 and back.vm_timeout_s == 90
    import pytest

    with pytest.raises(ValueError, match="ktstr_test checks: unknown check max_gap; valid:"):
        RunRequest.from_bazel_config({**cfg, "checks": {"max_gap": "1"}}, {"TEST_TMPDIR": str(tmp_path)})
