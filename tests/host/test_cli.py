import json
from pathlib import Path

from ktstr.cli.bazel_test import _bazel_log_hint, request_from_config
from ktstr.host.jobs import Command
from ktstr.wire.results import BootRecord, RunReport, TestOutcome, write_result
from ktstr.wire.run_config import SchedulerSpec
from ktstr.cli.main import main
from ktstr.host.engines import BootResult, ExitKind
from ktstr.wire.messages import ClaimRecord
from ktstr.wire.status import Status

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
        TestOutcome("alpha", Status.FAIL, "1 claim failed", failed_claims=[ClaimRecord("cg_0.gap_ms", "900", "<= 500")],
                    sched_ext_dump="kworker/0:1[9] triggered exit kind 1026:"),
        TestOutcome("beta", Status.PASS, "guest reported success")],
        [BootRecord("1n1l2c1t", ["alpha", "beta"], boot.exit_kind.value, boot.engine, boot.wall_s, boot.detail,
                    "console.log", "r.bin")],
        4.0)
    write_result(report, tmp_path / "result.json")
    assert json.loads((tmp_path / "result.json").read_text())["verdict"] == "FAIL"
    assert main(["show", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "1 PASS, 1 FAIL" in out
    assert "claim: cg_0.gap_ms = 900, expected <= 500" in out
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
           "duration": "1.5", "vm_timeout_s": 30, "engine": "", "expect_fail": "", "cmdline": ""}
    env = {"TEST_TMPDIR": str(tmp_path / "tmp"), "TEST_UNDECLARED_OUTPUTS_DIR": str(tmp_path / "out"),
           "TESTBRIDGE_TEST_ONLY": "beta"}
    req = request_from_config(cfg, env)
    assert req.payload.names() == ["beta"]
    assert req.out_dir == tmp_path / "out" and req.work_dir == tmp_path / "tmp" / "ktstr-work"
    assert req.initrds == [Path("a.cpio"), Path("b.cpio")]
    assert req.payload.scheduler == SchedulerSpec("scx_simple", "s/scx_simple", ("-v",), "simple")
    assert req.payload.options.duration_s == 1.5 and req.timeout_s == 30 and req.engine.name is None
    assert req.memory_mib == 512 and req.engine.vmm_library is None
    assert _bazel_log_hint({"TEST_TARGET": "//sched:x_test"}) == "bazel-testlogs/sched/x_test/test.outputs/outputs.zip"


def test_bazel_sharding_deals_tests_round_robin(tmp_path):
    src = tmp_path / "t.py"
    src.write_text(SRC)
    cfg = {"suite": "//sched:x_test", "kernel": "k", "initramfs": ["a.cpio"], "srcs": [str(src)]}
    base = {"TEST_TMPDIR": str(tmp_path / "tmp"), "TEST_TOTAL_SHARDS": "2"}
    shard0 = request_from_config(cfg, {**base, "TEST_SHARD_INDEX": "0"})
    shard1 = request_from_config(cfg, {**base, "TEST_SHARD_INDEX": "1"})
    assert shard0.payload.names() == ["alpha"] and shard1.payload.names() == ["beta"]
    assert request_from_config(cfg, {"TEST_TMPDIR": str(tmp_path / "tmp")}).payload.names() == ["alpha", "beta"]
    assert request_from_config(cfg, {**base, "TEST_TOTAL_SHARDS": "3", "TEST_SHARD_INDEX": "2"}) is None


def test_selftests_config_is_a_command_payload(tmp_path):
    cfg = {"suite": "//sched:st", "kernel": "k", "selftests_runner": "r/runner", "selftests_args": ["-q"],
           "topology": "1n1l2c1t", "memory_mib": 512, "vm_timeout_s": 240, "vmm_library": "vmm/lib.so"}
    req = request_from_config(cfg, {"TEST_TMPDIR": str(tmp_path), "TESTBRIDGE_TEST_ONLY": "create_dsq"})
    assert req.payload == Command(Path("r/runner"), ("-q", "-t", "create_dsq"))
    assert req.engine.vmm_library == Path("vmm/lib.so").resolve() and req.timeout_s == 240
    assert request_from_config(cfg, {"TEST_TMPDIR": str(tmp_path), "TEST_TOTAL_SHARDS": "2",
                                     "TEST_SHARD_INDEX": "1"}) is None


def test_bazel_config_without_memory_sizes_each_boot(tmp_path):
    # ktstr_test with topology = "" writes memory_mib 0: each boot's own topology decides.
    src = tmp_path / "t.py"
    src.write_text("from ktstr import ktstr_test\n\n@ktstr_test(llcs=8, cores=4)\ndef big(ctx): ...\n")
    cfg = {"suite": "//x:t", "kernel": "k", "initramfs": ["a.cpio"], "srcs": [str(src)], "memory_mib": 0}
    req = request_from_config(cfg, {"TEST_TMPDIR": str(tmp_path)})
    [boot] = req.payload.plan(req.topology)
    assert boot.topology == "1n8l4c1t" and req.memory_for(boot.topology) == 2048


def test_entry_points_refuse_bad_configs_without_a_traceback(tmp_path, capsys):
    from ktstr.cli.bazel_test import main as bazel_main, shell_main

    for text in ("[1]", "{nope", '{"kernel": "k"}'):
        (tmp_path / "c.json").write_text(text)
        assert bazel_main(["--config", str(tmp_path / "c.json")]) == 2
        assert shell_main(["--config", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert "ktstr_test: " in err and "ktstr_shell: " in err and "Traceback" not in err
