"""ktstr/interpreter.py: an entry point started by another interpreter continues on ktstr's,
with the same arguments; on ktstr's, or outside Bazel, it carries on where it is."""

import sys
import types

import pytest

from ktstr import interpreter


@pytest.fixture
def execs(monkeypatch):
    calls = []
    monkeypatch.setattr(interpreter.os, "execv", lambda path, argv: calls.append((path, argv)))
    monkeypatch.setattr(sys, "argv", ["/runfiles/ktstr/tools/initramfs/pack_main.py", "--out", "x"])
    return calls


def info(monkeypatch, path):
    monkeypatch.setitem(sys.modules, "ktstr_python_info", types.SimpleNamespace(INTERPRETER=path))


def test_another_interpreter_switches_to_ktstrs(monkeypatch, execs):
    info(monkeypatch, "/opt/ktstr-python/bin/python3")
    monkeypatch.setattr(sys, "executable", "/monorepo/python/python3.sh")
    interpreter.ensure_ktstr_python()
    assert execs == [("/opt/ktstr-python/bin/python3",
                      ["/opt/ktstr-python/bin/python3", "/runfiles/ktstr/tools/initramfs/pack_main.py", "--out", "x"])]


def test_ktstrs_interpreter_stays(monkeypatch, execs):
    info(monkeypatch, sys.executable)
    interpreter.ensure_ktstr_python()
    assert execs == []


def test_outside_bazel_nothing_to_switch_to(monkeypatch, execs):
    monkeypatch.setitem(sys.modules, "ktstr_python_info", None)  # import fails
    assert interpreter.ktstr_interpreter() is None
    interpreter.ensure_ktstr_python()
    assert execs == []
