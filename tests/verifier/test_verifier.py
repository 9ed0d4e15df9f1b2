"""Verifier cells on the host: the shim against the host kernel's real verifier, the records,
budgets and judging; the VM cells are //schedulers:verifier_test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ktstr.host.engines import BootResult, ExitKind
from ktstr.host.plan import PlannedBoot
from ktstr.verifier.budget import BudgetError, check, parse_budget
from ktstr.verifier.cell import CellScheduler, VerifierCells, figures_json, figures_table, init_script, judge
from ktstr.verifier.records import parse_stream
from ktstr.wire.frames import LOG, encode_frame
from ktstr.wire.status import Status
from ktstr.wire.verifier import FIGURES, VerifierRecord, begin_frame, decode_records, end_frames

HERE = Path(__file__).resolve().parent
SHIM_SRC = Path("schedulers/verifier/ktstr_verifier_shim.c")


@pytest.fixture(scope="module")
def shim(tmp_path_factory) -> Path:
    built = Path("schedulers/libktstr_verifier.so")  # Bazel runfiles (cwd = workspace root)
    if built.exists():
        return built.resolve()
    if not shutil.which("gcc"):
        pytest.skip("no gcc to build the shim outside Bazel")
    out = tmp_path_factory.mktemp("shim") / "libktstr_verifier.so"
    src = SHIM_SRC if SHIM_SRC.exists() else HERE.parents[1] / SHIM_SRC
    subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o", str(out), str(src)],
                   check=True)
    return out


def _probe(shim: Path, mode: str, tmp_path: Path) -> tuple[str, bytes]:
    out = tmp_path / f"{mode}.records"
    env = {**os.environ, "LD_PRELOAD": str(shim), "KTSTR_VERIFIER_OUT": str(out),
           "KTSTR_VERIFIER_SCHED": "probe"}
    r = subprocess.run([sys.executable, str(HERE / "bpf_load_probe.py"), mode], env=env,
                       capture_output=True, text=True, check=True)
    return r.stdout.strip(), out.read_bytes() if out.exists() else b""


def _host_bpf_or_skip(shim, tmp_path):
    plain = subprocess.run([sys.executable, str(HERE / "bpf_load_probe.py"), "good"],
                           capture_output=True, text=True, check=True).stdout
    if not plain.startswith("fd=") or plain.startswith("fd=-1"):
        pytest.skip(f"the host kernel refuses BPF_PROG_LOAD here ({plain.strip()}): the shim is "
                    f"covered in the VM by //schedulers:verifier_test")


def _begin(name="probe"):
    return begin_frame(name)


def test_shim_records_an_accepted_program(shim, tmp_path):
    _host_bpf_or_skip(shim, tmp_path)
    said, records = _probe(shim, "good", tmp_path)
    assert said.startswith("fd=") and not said.startswith("fd=-1"), said
    stream = parse_stream(_begin() + records)
    (p,) = stream.schedulers["probe"].own_programs
    assert p.ok and p.name == "ktstr_good" and p.prog_type == 1
    assert p.figures["insns"] == 2 and p.figures["verified_insns"] == 2
    assert p.insn_limit == 1_000_000 and p.figures["time_us"] >= 0 and p.figures["peak_states"] >= 0


def test_shim_records_a_rejection_with_the_log_end_and_keeps_the_failure(shim, tmp_path):
    _host_bpf_or_skip(shim, tmp_path)
    said, records = _probe(shim, "bad", tmp_path)
    assert said == "fd=-1 errno=22"  # the loader still sees EINVAL
    (p,) = parse_stream(_begin() + records).schedulers["probe"].own_programs
    assert not p.ok and p.errno == 22
    assert "last insn is not an exit or jmp" in p.log_tail


def test_shim_leaves_a_loader_asking_for_its_own_log_alone(shim, tmp_path):
    _host_bpf_or_skip(shim, tmp_path)
    said, records = _probe(shim, "own_log", tmp_path)
    assert not said.startswith("fd=-1") and records == b""


def _stream(progs, attached=True, status=0, name="s"):
    return parse_stream(b"".join(_raw_stream(progs, attached, status, name)))


def _end(name, status):
    frames, size = end_frames(name)
    return frames[status * size:(status + 1) * size]  # what the cell's /init copies with dd


def _raw_stream(progs, attached=True, status=0, name="s"):
    frames = [_begin(name)]
    for prog, ok, insns, peak in progs:
        figures = {"insns": insns, "total_states": peak, "peak_states": peak, "max_states_per_insn": 1,
                   "mark_read": 1, "time_us": 100, "verified_insns": insns}
        frames.append(VerifierRecord("prog", name, prog, prog_type=27, ok=ok, errno=0 if ok else 13,
                                     figures=figures, stack_depth="8",
                                     log_tail="R1 invalid mem access\ninvalid bpf_context access\n"
                                              "processed 7 insns (limit 1000000)").frame())
    frames.append(VerifierRecord("prog", name, "", ok=True, figures={"insns": 2}).frame())
    if attached:
        frames.append(VerifierRecord("attach", name).frame())
    if status is not None:
        frames.append(_end(name, status))
    return frames


_BOOT = BootResult(ExitKind.POWEROFF, 1.0, b"", b"", "qemu-tcg", "qemu-tcg")


def test_judge_pass_fail_and_budget():
    sched = CellScheduler("s", Path("/bin/true"), budget="insns=1000,total_insns=1500")
    ok = _stream([("s_enqueue", True, 900, 10), ("s_dispatch", True, 500, 30)])
    o = judge(sched, ok.schedulers["s"], _BOOT, [])
    assert o.verdict == Status.PASS, o.reason
    assert o.reason.startswith("2 programs verified: 1400 insns processed (largest s_enqueue: 900)")
    assert o.stats["s_dispatch.peak_states"] == 30 and o.stats["total.insns"] == 1400
    over = _stream([("s_enqueue", True, 1200, 10), ("s_dispatch", True, 500, 30)])
    o = judge(sched, over.schedulers["s"], _BOOT, [])
    assert o.verdict == Status.FAIL
    assert o.reason == "verifier budget insns=1000 exceeded: s_enqueue has 1200"
    assert o.details == ["verifier budget total_insns=1500 exceeded: 1700 over 2 programs"]
    rejected = _stream([("s_enqueue", False, 0, 0)], attached=False, status=1)
    o = judge(sched, rejected.schedulers["s"], _BOOT, [])
    assert o.reason == "verifier rejected s_enqueue (EACCES): invalid bpf_context access"
    assert "R1 invalid mem access" in o.details
    hung = _stream([("s_enqueue", True, 10, 1)], attached=False, status=None)
    o = judge(sched, hung.schedulers["s"], BootResult(ExitKind.TIMEOUT, 9, b"", b"", "", "qemu-tcg",
                                                      "killed after timeout of 9 s"), [])
    assert o.reason == "guest timeout while s was loading (killed after timeout of 9 s)"
    died = _stream([("s_enqueue", True, 10, 1)], attached=False, status=2)
    assert "loader exited with status 2 before loading finished" in judge(sched, died.schedulers["s"], _BOOT, []).reason
    assert "never started" in judge(sched, None, _BOOT, []).reason
    text = figures_table([judge(sched, ok.schedulers["s"], _BOOT, [])])
    assert "s_enqueue" in text and "900" in text and "libbpf" not in text


def test_payload_judges_every_scheduler_and_keeps_the_figures_in_stats(tmp_path):
    """The runner's view: a boot's stream -> one outcome per scheduler; the figures survive
    result.json (stats) for the table and verifier.json."""
    a = CellScheduler("s", Path("/bin/true"), budget="insns=10000")
    b = CellScheduler("missing", Path("/bin/true"))
    stream = b"".join(line for line in _raw_stream([("s_enqueue", True, 900, 10)]))
    cells = VerifierCells((a, b), Path("/bin/true"))
    assert cells.names() == ["s", "missing"] and cells.shard(1, 2) is None
    (boot,) = cells.plan("")
    assert boot == PlannedBoot("1n1l2c1t", [])
    outcomes, _guest = cells.judge(boot, BootResult(ExitKind.POWEROFF, 1.0, b"", stream, "", "qemu-tcg"))
    assert [o.verdict for o in outcomes] == [Status.PASS, Status.FAIL]
    assert outcomes[0].details == ["budget: insns=10000"]
    assert "never started the loader" in outcomes[1].reason
    figures = figures_json(outcomes)
    assert figures["s"]["programs"]["s_enqueue"]["insns"] == 900
    assert figures["s"]["totals"]["total.insns"] == 900.0


def test_budget_syntax_errors_name_the_fix():
    assert [(b.key, b.bound, b.total) for b in parse_budget("insns=5 total_states=3,total_insns=9")] == [
        ("insns", 5, False), ("total_states", 3, False), ("total_insns", 9, True)]
    with pytest.raises(BudgetError, match="'instructions=5' is not KEY=N"):
        parse_budget("instructions=5")
    assert check(parse_budget("insns=5"), []) == []


def test_init_script_runs_each_loader_through_the_shim():
    text = init_script([CellScheduler("scx_a", Path("/x/scx_a"), ("-v",)), CellScheduler("scx_b", Path("/y/b"))])
    assert "KTSTR_VERIFIER_SCHED=scx_a KTSTR_VERIFIER_OUT=$out KTSTR_VERIFIER_ONLY=1 " in text
    assert "LD_PRELOAD=/ktstr/lib/libktstr_verifier.so timeout 120 /ktstr/sched/0/scx_a -v" in text
    assert "/ktstr/sched/1/b " in text and text.rstrip().endswith("poweroff -f")
    # the records are frames the host wrote into the layer: begin, and the end for $?
    assert "cat /ktstr/verifier/0/begin >&3" in text
    assert f"dd if=/ktstr/verifier/1/end bs={end_frames('scx_b')[1]} skip=$st count=1 >&3" in text


@pytest.mark.parametrize("bad,why", [
    (b"KTSTR_VERIFIER 1\n", "byte(s) of garbage"),
    (encode_frame(6, b"\xff\xff\xff"), "undecodable verifier record"),
    (encode_frame(LOG, b""), "frame of type 2 at offset"),
    (VerifierRecord("begun", "probe").frame(), "unknown event 'begun'"),
    (bytearray(_begin()[:-2]) + b"!!", "bad CRC"),
])
def test_a_bad_record_is_a_named_error_not_a_crash(bad, why):
    """Issue 22: `KTSTR_VERIFIER 1` raised AttributeError out of parse_stream (no JUnit, no
    result.json). Each bad record is an error of the stream, naming it; the rest stays."""
    stream = parse_stream(_begin() + bytes(bad) + VerifierRecord("attach", "probe").frame())
    assert len(stream.errors) == 1 and why in stream.errors[0], stream.errors
    assert stream.schedulers["probe"].attached


def test_records_round_trip_through_their_frames():
    figures = {k: i * 10 - 1 for i, k in enumerate(FIGURES)}
    sent = [begin_frame("scx_ü"), VerifierRecord("prog", "scx_ü", "enqueue", 27, 3, 12, False, 13, figures, 1000000,
                                                 "8", "log\nend").frame(), _end("scx_ü", 255)]
    records, errors = decode_records(b"".join(sent))
    assert errors == [] and [r.event for r in records] == ["begin", "prog", "end"]
    assert records[1] == VerifierRecord("prog", "scx_ü", "enqueue", 27, 3, 12, False, 13, figures, 1000000, "8",
                                        "log\nend", status=-1)
    assert records[2].status == 255 and records[0].sched == "scx_ü"
    frames, size = end_frames("x")
    assert len(frames) == 256 * size  # one size for every status: /init picks one with dd
    assert [r.status for r in decode_records(frames)[0]] == list(range(256))


def test_a_verifier_target_config_takes_the_tests_request_path(tmp_path):
    # ktstr_verifier_test's config through RunRequest.from_bazel_config: the job kind's
    # defaults (ktstr/wire/defaults.py) for what it leaves unset, its expect_fail as an
    # expectation, the engine's files as for a test.
    from ktstr.cli.bazel_verifier import request_from_config
    from ktstr.wire.defaults import VERIFIER

    cfg = {"suite": "//s:v", "kernel": "k/bzImage", "shim": "s/shim.so", "topology": "", "memory_mib": 0,
           "vm_timeout_s": 0, "engine": "vmm", "cmdline": "", "expect_fail": "rejected",
           "vmm_library": "vmm/lib.so", "schedulers": [{"name": "a", "binary": "a/bin", "args": ["-v"],
                                                        "runtime_files": [], "budget": "insns=5"}]}
    req = request_from_config(cfg, {"TEST_TMPDIR": str(tmp_path)})
    assert req.payload == VerifierCells((CellScheduler("a", Path("a/bin"), ("-v",), budget="insns=5"),),
                                        Path("s/shim.so"))
    assert req.timeout_s == VERIFIER.vm_timeout_s == 300 and req.memory_for("1n1l2c1t") == 1024
    assert req.engine.name == "vmm" and req.engine.vmm_library == Path("vmm/lib.so").resolve()
    assert [e.text for e in req.expectations] == ["rejected"] and req.suite == "//s:v"
    assert request_from_config({**cfg, "vm_timeout_s": 42}, {"TEST_TMPDIR": str(tmp_path)}).timeout_s == 42
