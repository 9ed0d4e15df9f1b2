"""The docs name only things that exist: every repo path, ktstr module (or attribute) and
constant / environment variable that README.md, docs/*.md and kernels/README.md put in
backticks, every Bazel package they name, the base kernel command line, the run.json example
and the frame table."""

from __future__ import annotations

import functools
import importlib
import json
import re
from dataclasses import fields
from pathlib import Path

import pytest

from tools.lint.source_tree import root

DOCS = ("README.md", "docs/*.md", "kernels/README.md")

# Named in the docs, on purpose not in this repository.
ELSEWHERE = {
    "tools/testing/selftests/sched_ext": "the kernel tree's sched_ext selftests",
    "vmlinux.h": "generated from the kernel's BTF when a scheduler is built",
    "cache/index3/shared_cpu_list": "sysfs, under /sys/devices/system/cpu/cpuN/",
}

# Files a constant or environment variable may be defined or read in.
CODE_GLOBS = ("**/*.py", "**/*.bzl", "**/BUILD.bazel", "**/*.c", "**/*.h", "**/*.S", "tools/bazel", ".bazelrc",
              "bazelw", ".ci/run")
SOURCE_SUFFIXES = (".py", ".bzl", ".bazel", ".c", ".h", ".S", ".md", ".toml", ".kconfig", ".proto", ".sh")


def _docs() -> list[Path]:
    base = root()
    return sorted({p for pattern in DOCS for p in base.glob(pattern)})


def _spans(doc: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)  # code blocks are examples
    return re.findall(r"`([^`\n]+)`", text)


def _is_path(token: str) -> bool:
    if not re.fullmatch(r"[\w.\-/]+", token) or token.startswith(("/", "-", ".", "~")) or "//" in token:
        return False
    return "/" in token or token.endswith(SOURCE_SUFFIXES)


def _path_bases(doc: Path) -> list[Path]:
    """A doc names paths from the root, from its own directory, or (docs/vmm.md) from the
    directory it is about."""
    base = root()
    return [base, doc.parent, base / doc.stem]


@functools.lru_cache(maxsize=1)
def _file_names() -> frozenset[str]:
    base = root()
    return frozenset(p.name for top in base.iterdir() if top.is_dir() and not top.name.startswith(("bazel-", "."))
                     for p in top.rglob("*"))


def _code_text() -> str:
    base = root()
    parts = []
    for pattern in CODE_GLOBS:
        for p in base.glob(pattern):
            if p.is_file() and "bazel-" not in p.parts[len(base.parts)] and "third_party" not in p.parts:
                parts.append(p.read_text(errors="replace"))
    return "\n".join(parts)


def test_every_named_path_exists():
    missing = []
    for doc in _docs():
        for token in _spans(doc):
            if not _is_path(token) or token.rstrip("/") in ELSEWHERE or token in ELSEWHERE:
                continue
            if any((b / token).exists() for b in _path_bases(doc)):
                continue
            if "/" not in token and token in _file_names():  # a file named by its name alone
                continue
            missing.append(f"{doc.relative_to(root())}: `{token}`")
    assert not missing, "docs name paths that do not exist:\n" + "\n".join(missing)


def _resolve(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_named_module_and_attribute_exists():
    missing = []
    for doc in _docs():
        for token in _spans(doc):
            m = re.match(r"(?:python -m )?(ktstr(?:\.\w+)+)", token)
            if m and not token.endswith(SOURCE_SUFFIXES) and not _resolve(m.group(1)):
                missing.append(f"{doc.relative_to(root())}: `{token}`")
    assert not missing, "docs name modules or attributes that do not exist:\n" + "\n".join(missing)


def test_every_named_constant_is_in_the_code():
    code = _code_text()
    missing = []
    for doc in _docs():
        for token in _spans(doc):
            for name in re.findall(r"(?<![\w{])\$?([A-Z][A-Z0-9]*_[A-Z0-9_]+)(?![\w{])", token):
                if not re.search(rf"\b{name}\b", code):
                    missing.append(f"{doc.relative_to(root())}: `{token}` ({name})")
    assert not missing, "docs name constants or variables no code defines or reads:\n" + "\n".join(missing)


def test_every_named_bazel_package_exists():
    missing = []
    for doc in _docs():
        for token in _spans(doc):
            for pkg in re.findall(r"(?<![@\w])//([\w/.-]*?)(?::|/?\.\.\.|$|\s)", token):
                if not (root() / pkg / "BUILD.bazel").is_file() and not (root() / pkg / "BUILD").is_file():
                    missing.append(f"{doc.relative_to(root())}: `{token}` (package //{pkg})")
    assert not missing, "docs name Bazel packages that do not exist:\n" + "\n".join(missing)


def test_base_cmdline_is_quoted_verbatim():
    from ktstr.host.runner import BASE_CMDLINE

    for name in ("docs/ARCHITECTURE.md", "docs/host-runner.md"):
        text = " ".join((root() / name).read_text().replace("`", " ").split())
        assert BASE_CMDLINE in text, f"{name} must quote ktstr.host.runner.BASE_CMDLINE: {BASE_CMDLINE}"


def test_run_json_example_has_exactly_the_runconfig_fields():
    from ktstr.wire.run_config import RunConfig, SchedulerSpec

    text = (root() / "docs/host-runner.md").read_text()
    block = re.search(r"## /ktstr/run.json.*?```json\n(.*?)```", text, re.S)
    assert block, "docs/host-runner.md lost its run.json example"
    example = json.loads(block.group(1).replace('["..."]', "[]"))
    assert set(example) == {f.name for f in fields(RunConfig)}
    assert set(example["scheduler"]) == set(SchedulerSpec("x").to_json())
    RunConfig.from_json(example)  # and the guest would read it


def test_frame_table_matches_the_frame_types():
    from ktstr.wire.frames import MESSAGE_NAMES

    text = (root() / "docs/host-runner.md").read_text()
    rows = dict(re.findall(r"^\| (\d+) +\| (\w+) +\|", text, re.M))
    assert {int(k): v for k, v in rows.items()} == MESSAGE_NAMES


def test_vmm_layout_lists_every_c_file():
    base = root()
    text = (base / "docs/vmm.md").read_text()
    vmm = base / "vmm"
    # a .c file is listed by its own name or by its header's (devices/pio.h stands for pio.c)
    missing = [str(c.relative_to(vmm)) for c in sorted(vmm.rglob("*.c")) if "tests" not in c.parts
               and str(c.relative_to(vmm)) not in text and str(c.relative_to(vmm).with_suffix(".h")) not in text]
    assert not missing, f"docs/vmm.md's layout does not list: {missing}"


@pytest.mark.parametrize("token,expected", [("ktstr/wire/frames.py", True), ("`x`", False),
                                            ("/dev/kvm", False), ("vm.c", True), ("bazel test", False)])
def test_path_heuristic(token, expected):
    assert _is_path(token) == expected
