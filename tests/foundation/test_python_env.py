"""The interpreter Bazel runs tests with has exactly the pinned requirements."""

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

REQUIREMENTS = Path("requirements.txt")


def pinned() -> dict[str, str]:
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name] = version
    return pins


def test_requirements_are_all_pinned():
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*", line), line


@pytest.mark.parametrize("name,version", sorted(pinned().items()))
def test_installed_version_matches_pin(name, version):
    assert importlib.metadata.version(name) == version


def test_interpreter_is_python_3_11_or_newer():
    assert sys.version_info >= (3, 11)
