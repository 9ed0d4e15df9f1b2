"""The one-liner's host side without a VM: what it shows, the status it returns, how it
reads its arguments (the VM runs are in test_shell.py)."""

import argparse
import io

import pytest

from ktstr.cli.one_liner import (CANNOT_TEST, FINDING_STATUS, ExecDisplay, OneLinerError, command_from_argv,
                                 exit_status, memory_mib, vm_shape_args)
from ktstr.wire.results import Finding, TestOutcome
from ktstr.wire.marks import EXEC_BEGIN, EXEC_END
from ktstr.wire.run_config import EXIT_STATUS_STAT, RunConfig, RunConfigError
from ktstr.wire.status import Status


def show(*chunks: bytes) -> bytes:
    out = io.BytesIO()
    d = ExecDisplay(out)
    for c in chunks:
        d.feed(c)
    return out.getvalue()


def test_only_the_lines_between_the_marks_are_shown_in_any_chunking():
    console = (b"\x1bc[    0.000] Linux version 6.12\r\nktstr-agent: boot\r\n" + EXEC_BEGIN.encode()
               + b"\r\nhello\r\n[    1.5] a kernel line meanwhile\r\nworld\r\n" + EXEC_END.encode()
               + b" 0\r\n[    2.0] reboot: Power down\r\n")
    whole = show(console)
    assert whole == b"hello\n[    1.5] a kernel line meanwhile\nworld\n"
    assert show(*[console[i:i + 1] for i in range(len(console))]) == whole  # byte by byte
    assert show(console[:40], console[40:77], console[77:]) == whole


def test_an_imitated_begin_mark_after_the_real_one_is_shown_as_output():
    console = f"{EXEC_BEGIN}\n{EXEC_BEGIN}\nx\n{EXEC_END} 0\n".encode()
    assert show(console) == f"{EXEC_BEGIN}\nx\n".encode()


def test_a_line_without_end_is_shown_in_pieces_no_longer_than_the_cap():
    out = io.BytesIO()
    d = ExecDisplay(out)
    d.feed(f"{EXEC_BEGIN}\n".encode())
    d.feed(b"y" * (200 * 1024))
    assert 128 * 1024 <= len(out.getvalue()) and len(d.partial) <= 64 * 1024


def outcome(verdict: Status, status=None, findings=(), reason="") -> TestOutcome:
    o = TestOutcome("exec", verdict, reason)
    if status is not None:
        o.stats[EXIT_STATUS_STAT] = float(status)
    o.findings = list(findings)
    return o


def test_the_status_is_the_commands_when_the_run_is_otherwise_clean():
    said: list[str] = []
    assert exit_status(outcome(Status.PASS, 0), said.append) == 0 and said == []
    own = Finding("guest", "the command exited with status 3")
    assert exit_status(outcome(Status.FAIL, 3, [own]), said.append) == 3 and said == []


def test_a_finding_beside_a_clean_exit_is_status_1_and_is_said():
    said: list[str] = []
    splat = Finding("splat", "kernel WARNING: CPU: 0 PID: 1 at x.c:1 planted")
    assert exit_status(outcome(Status.FAIL, 0, [splat]), said.append) == FINDING_STATUS
    assert said == ["splat: kernel WARNING: CPU: 0 PID: 1 at x.c:1 planted"]
    # ... and a failing command keeps its own status, the finding still said.
    said.clear()
    own = Finding("guest", "the command exited with status 2")
    assert exit_status(outcome(Status.FAIL, 2, [own, splat]), said.append) == 2 and len(said) == 1


def test_no_verdict_is_125_and_no_status_is_1():
    said: list[str] = []
    assert exit_status(outcome(Status.INCONCLUSIVE, reason="engine error"), said.append) == CANNOT_TEST
    assert exit_status(None, said.append) == CANNOT_TEST
    hang = Finding("hang", "guest hung: killed after timeout of 60 s while running this test")
    assert exit_status(outcome(Status.FAIL, None, [hang]), said.append) == FINDING_STATUS
    assert "hang: guest hung" in said[-1]


def test_one_word_is_a_command_line_several_are_an_argv():
    assert command_from_argv(["cat /proc/cpuinfo | head -3"]) == "cat /proc/cpuinfo | head -3"
    assert command_from_argv(["echo", "a b", "$HOME"]) == "echo 'a b' '$HOME'"


def test_vng_style_cpus_and_memory():
    assert [memory_mib(t) for t in ("2G", "512M", "1536", "2GiB", "1g")] == [2048, 512, 1536, 2048, 1024]
    for bad in ("lots", "0", "1.5M", ""):
        with pytest.raises(OneLinerError, match="--memory"):
            memory_mib(bad)
    args = argparse.Namespace(cpus=4, topology="", memory="2G", memory_mib=None)
    vm_shape_args(args)
    assert (args.topology, args.memory_mib) == ("1n1l4c1t", 2048)
    with pytest.raises(OneLinerError, match="not both"):
        vm_shape_args(argparse.Namespace(cpus=2, topology="2n2l1c1t", memory=None, memory_mib=None))


def test_a_command_goes_with_exec_mode_and_only_with_it():
    assert RunConfig("s", "1n1l1c1t", mode="exec", command="true").command == "true"
    for mode, command in (("exec", ""), ("tests", "true"), ("shell", "true")):
        with pytest.raises(RunConfigError, match="command"):
            RunConfig("s", "1n1l1c1t", mode=mode, command=command)
