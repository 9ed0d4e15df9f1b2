import sys
import os
import json
import subprocess
from pathlib import Path

from ktstr.host.run_layer import RUN_JSON_PATH, cpio_newc
from ktstr.host.runner import EEVDF, RunRequest, SchedulerSpec, _layer_files, plan_boots, run_config
from ktstr.host.test_listing import DeclaredTest


def _t(name, **opts):
    return DeclaredTest(name, Path("/src/scenarios.py"), opts)


def test_tests_sharing_a_topology_share_a_vm():
    tests = [_t("a", llcs=1, cores=2), _t("b"), _t("c", llcs=2, cores=2), _t("d", llcs=1, cores=2)]
    plan = plan_boots(tests, "")
    assert [(topo, [t.name for t in ts]) for topo, ts in plan] == [
        ("1n1l2c1t", ["a", "b", "d"]), ("1n2l2c1t", ["c"])]
    # the target's topology attribute overrides every test's own
    assert [topo for topo, _ in plan_boots(tests, "1n2l1c2t")] == ["1n2l1c2t"]


def test_run_json_and_layer_carry_tests_and_scheduler(tmp_path):
    src = tmp_path / "scenarios.py"
    src.write_text("x = 1\n")
    binary = tmp_path / "scx_simple"
    # A real dynamically linked program stands in for the loader: its libraries must ride along.
    binary.write_bytes(Path(os.path.realpath(sys.executable)).read_bytes())
    sched = SchedulerSpec("scx_simple", binary, ("-s", "5000"), "simple")
    tests = [DeclaredTest("fair", src, {})]
    req = RunRequest("//sched:s", tmp_path / "bz", [], tests, scheduler=sched, duration_s=1.5)
    cfg = run_config(req, "1n1l2c1t", tests)
    assert cfg["tests"] == [{"name": "fair", "file": "/ktstr/tests/scenarios.py"}]
    assert cfg["scheduler"] == {"name": "scx_simple", "binary": "/ktstr/sched/scx_simple",
                                "args": ["-s", "5000"], "ops_name": "simple"}
    assert cfg["topology"] == "1n1l2c1t" and cfg["duration_s"] == 1.5
    layer = cpio_newc(_layer_files(req, tests))
    names = subprocess.run(["cpio", "-it"], input=layer, capture_output=True, check=True).stdout.decode().split()
    assert "ktstr/tests/scenarios.py" in names and "ktstr/sched/scx_simple" in names
    assert any(n.endswith("/libc.so.6") for n in names), "scheduler's shared libraries missing"
    eevdf = RunRequest("//sched:e", tmp_path / "bz", [], tests, scheduler=EEVDF)
    assert run_config(eevdf, "1n1l2c1t", tests)["scheduler"] is None
    assert RUN_JSON_PATH == "ktstr/run.json"
    json.dumps(cfg)  # the guest reads it as JSON
