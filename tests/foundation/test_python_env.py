"""The interpreter Bazel runs tests with has exactly the pinned requirements."""

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

REQUIREMENTS = Path("requirements.txt")


def requirements() -> list[str]:
    """requirements.txt's entries, each with its continuation lines (its --hash options) joined."""
    text = REQUIREMENTS.read_text().replace("\\\n", " ")
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def pinned() -> dict[str, str]:
    return dict(entry.split()[0].split("==") for entry in requirements())


def test_requirements_are_all_pinned_with_their_hashes():
    # pip installs with --require-hashes: every pin names a version and its wheel's sha256.
    for entry in requirements():
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*( +--hash=sha256:[0-9a-f]{64})+", entry), entry


@pytest.mark.parametrize("name,version", sorted(pinned().items()))
def test_installed_version_matches_pin(name, version):
    assert importlib.metadata.version(name) == version


def test_interpreter_is_python_3_11_or_newer():
    assert sys.version_info >= (3, 11)
