import json
from pathlib import Path

from ktstr.cli.bazel_test import _bazel_log_hint, request_from_config
from ktstr.cli.main import main
from ktstr.host.engines import BootResult, ExitKind
from ktstr.host.evaluate import GuestRun
from ktstr.host.runner import BootRecord, RunReport, write_sidecar
from ktstr.host.verdict import Claim, TestOutcome, Verdict

SRC = '''
from ktstr.scenario import ktstr_test

@ktstr_test(llcs=2, cores=2)
def alpha(ctx): ...

@ktstr_test
def beta(ctx): ...
'''


def test_list_prints_tests_and_topologies(tmp_path, capsys):
    src = tmp_path / "t.py"
    src.write_text(SRC)
    assert main(["list", str(src)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{src}:alpha  topology=1n2l2c1t", f"{src}:beta  topology=1n1l2c1t"]


def test_show_reprints_a_failure_from_the_sidecar(tmp_path, capsys):
    (tmp_path / "console.log").write_text("boot\nsched_ext: oops\n")
    boot = BootResult(ExitKind.POWEROFF, 3.0, b"", b"", "guest powered off", "qemu-tcg", "guest powered off")
    report = RunReport("//sched:x_test", "qemu-tcg", [
        TestOutcome("alpha", Verdict.FAIL, "1 claim failed", failed_claims=[Claim("cg_0.gap_ms", "900", "<= 500")],
                    sched_ext_dump="kworker/0:1[9] triggered exit kind 1026:"),
        TestOutcome("beta", Verdict.PASS, "guest reported success")],
        [BootRecord("1n1l2c1t", ["alpha", "beta"], boot, tmp_path / "console.log", tmp_path / "r.bin", GuestRun())], 4.0)
    write_sidecar(report, tmp_path / "result.json")
    assert json.loads((tmp_path / "result.json").read_text())["verdict"] == "FAIL"
    assert main(["show", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "1 PASS, 1 FAIL" in out
    assert "claim: cg_0.gap_ms = 900 (bound: <= 500)" in out
    assert "sched_ext: oops" in out
    assert "sched_ext dump: 1 lines in sched_ext_dump-alpha.txt; first: kworker/0:1[9] triggered" in out


def test_show_names_a_missing_file(tmp_path, capsys):
    assert main(["show", str(tmp_path / "nope.json")]) == 2
    assert "cannot read result" in capsys.readouterr().err


def test_bazel_config_honours_env(tmp_path):
    src = tmp_path / "t.py"
    src.write_text(SRC)
    cfg = {"suite": "//sched:x_test", "kernel": "k/bzImage", "initramfs": ["a.cpio", "b.cpio"],
           "srcs": [str(src)], "test": "", "scheduler": {"name": "scx_simple", "binary": "s/scx_simple",
           "args": ["-v"], "ops_name": "simple", "runtime_files": []}, "topology": "", "memory_mib": 512,
           "duration": "1.5", "timeout": 30, "engine": "", "expect_fail": "", "cmdline": ""}
    env = {"TEST_TMPDIR": str(tmp_path / "tmp"), "TEST_UNDECLARED_OUTPUTS_DIR": str(tmp_path / "out"),
           "TESTBRIDGE_TEST_ONLY": "beta"}
    req = request_from_config(cfg, env)
    assert [t.name for t in req.tests] == ["beta"]
    assert req.out_dir == tmp_path / "out" and req.work_dir == tmp_path / "tmp" / "ktstr-work"
    assert req.initrds == [Path("a.cpio"), Path("b.cpio")]
    assert req.scheduler.binary == Path("s/scx_simple") and req.scheduler.args == ("-v",)
    assert req.duration_s == 1.5 and req.timeout_s == 30 and req.engine is None
    assert _bazel_log_hint({"TEST_TARGET": "//sched:x_test"}) == "bazel-testlogs/sched/x_test/test.outputs/outputs.zip"


def test_bazel_sharding_deals_tests_round_robin(tmp_path):
    src = tmp_path / "t.py"
    src.write_text(SRC)
    cfg = {"suite": "//sched:x_test", "kernel": "k", "initramfs": ["a.cpio"], "srcs": [str(src)]}
    base = {"TEST_TMPDIR": str(tmp_path / "tmp"), "TEST_TOTAL_SHARDS": "2"}
    shard0 = request_from_config(cfg, {**base, "TEST_SHARD_INDEX": "0"})
    shard1 = request_from_config(cfg, {**base, "TEST_SHARD_INDEX": "1"})
    assert [t.name for t in shard0.tests] == ["alpha"] and [t.name for t in shard1.tests] == ["beta"]
    assert [t.name for t in request_from_config(cfg, {"TEST_TMPDIR": str(tmp_path / "tmp")}).tests] == ["alpha", "beta"]
