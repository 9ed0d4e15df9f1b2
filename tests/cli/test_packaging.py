"""The installed `ktstr` console script (pyproject.toml) is the same command as
`bazel run @ktstr//:ktstr`, with MODULE.bazel's version and requirements.txt's pins."""

import importlib
import re
import tomllib
from pathlib import Path

from ktstr.cli.main import main

PROJECT = tomllib.loads(Path("pyproject.toml").read_text())["project"]


def pins(lines: list[str]) -> dict[str, str]:
    return dict(re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip()).groups()
                for line in lines if re.match(r"^[A-Za-z0-9_.-]+==", line.strip()))


def test_console_script_is_the_cli_main():
    module, _, func = PROJECT["scripts"]["ktstr"].partition(":")
    assert getattr(importlib.import_module(module), func) is main


def test_version_is_module_bazels():
    module_version = re.search(r'^\s*version = "([^"]+)",$', Path("MODULE.bazel").read_text(), re.M).group(1)
    assert PROJECT["version"] == module_version


def test_dependency_pins_are_requirements_txts():
    required = pins(Path("requirements.txt").read_text().splitlines())
    declared = pins(PROJECT["dependencies"] + [d for ds in PROJECT["optional-dependencies"].values() for d in ds])
    assert declared, "pyproject.toml declares ktstr's runtime packages"
    assert {name: required.get(name) for name in declared} == declared
