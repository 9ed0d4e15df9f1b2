"""Issue 22: guest text that becomes a file name or XML goes through ktstr.sanitize."""


import pytest

from ktstr.cli.main import main
from ktstr.host import runner
from ktstr.host.engines import BootResult, ExitKind
from ktstr.host.jobs import Command
from ktstr.host.request import RunRequest
from ktstr.monitor.hook import MonitorHook
from ktstr.sanitize import MAX_NAME_CHARS, file_name, xml_text


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", "", ".", "..", ".hidden", "x\0y", "tab\there",
                                  "é" * 300, "a" * 500, "new\nline"])
def test_file_name_is_one_safe_component(name, tmp_path):
    safe = file_name(name)
    assert safe and safe not in (".", "..") and not safe.startswith(".")
    assert "/" not in safe and "\0" not in safe and len(safe) <= MAX_NAME_CHARS
    (tmp_path / f"scheduler-{safe}.log").write_text("x")  # a real file, in tmp_path itself
    assert [p.parent for p in tmp_path.iterdir()] == [tmp_path]


def test_file_name_keeps_plain_names_and_separates_lookalikes():
    assert file_name("create_dsq") == "create_dsq"
    assert file_name("a/b") != file_name("a_b") and file_name("a/b").startswith("a_b-")


def test_xml_text_escapes_only_what_xml_cannot_carry():
    assert xml_text("ok\ttab\nnl é 😀") == "ok\ttab\nnl é 😀"
    assert xml_text("a\x00b\x1bc\ufffe\uffff\ud800") == "a\\x00b\\x1bc\\ufffe\\uffff\\ud800"


class _ConsoleEngine:
    """An engine whose guest printed `console` and powered off: the selftests runner's
    output as a guest would send it (the part under test is what the host does with it)."""

    name = "canned"
    emulated = True

    def __init__(self, console: bytes) -> None:
        self.console = console

    def run(self, spec):
        spec.console_path.parent.mkdir(parents=True, exist_ok=True)
        spec.console_path.write_bytes(self.console)
        spec.result_path.write_bytes(b"")
        return BootResult(ExitKind.POWEROFF, 1.0, self.console, b"", "guest powered off", self.name,
                          "guest powered off")


def test_a_selftest_name_with_a_slash_stays_in_the_out_dir(tmp_path):
    """Before: scheduler-../../x.log could not be written, the OSError ended the run, and
    every verdict became INCONCLUSIVE 'could not start the VM'."""
    console = (b"===== START =====\nTEST: ../../escaped/create_dsq\nOUTPUT:\nsome output\n"
               b"ok 1 ../../escaped/create_dsq #\n=====  END  =====\nPASSED: 1\n"
               b"reboot: Power down\n")
    (tmp_path / "runner").write_bytes(b"")
    req = RunRequest(suite="selftests", kernel=tmp_path / "k", initrds=[], payload=Command(tmp_path / "runner"),
                     out_dir=tmp_path / "out", work_dir=tmp_path / "work")
    report = runner.run(req, _ConsoleEngine(console), hook=MonitorHook())
    assert [(o.name, o.verdict.value) for o in report.outcomes] == [("../../escaped/create_dsq", "PASS")]
    logs = list((tmp_path / "out").glob("scheduler-*.log"))
    assert len(logs) == 1 and "some output" in logs[0].read_text()
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("text", ["[]", "1", '{"schema": 1, "tests": [1]}', '{"schema": 1, "tests": [{"name": "x"}]}',
                                  '{"tests": "x"}'])
def test_show_refuses_what_is_not_a_result(tmp_path, capsys, text):
    (tmp_path / "result.json").write_text(text)
    assert main(["show", str(tmp_path)]) == 2
    assert "not a ktstr result" in capsys.readouterr().err
