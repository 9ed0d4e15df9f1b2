"""The docs name only things that exist: every repo path, ktstr module (or attribute) and
constant / environment variable that README.md, docs/*.md and kernels/README.md put in
backticks, every Bazel package and target they (or a comment in the code) name, every entry
of ARCHITECTURE.md's layout block, the base kernel command line, the run.json example and the
frame table."""

from __future__ import annotations

import functools
import importlib
import io
import json
import re
import tokenize
from dataclasses import fields
from pathlib import Path
from typing import Iterable, Iterator

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


# A label of this repository, //<package>:<name> (not @repo//..., not a URL's scheme://host:port).
LABEL = re.compile(r"(?<![@\w/:])//([\w/.-]*):([\w.+-]*[\w+-])")
WILDCARDS = frozenset({"all", "all-targets", "*"})
PSEUDO_PACKAGES = frozenset({"visibility"})  # //visibility:public names no package
COMMENTED = ("**/*.py", "**/*.bzl", "**/BUILD.bazel", "**/*.c", "**/*.h")


def _build_file(base: Path, pkg: str) -> Path | None:
    return next((p for p in (base / pkg / "BUILD.bazel", base / pkg / "BUILD") if p.is_file()), None)


# A generated name's template: `name = "%s_shell" % x`, `name = name + "_plan"`, `name = "fuzz_" + target`.
_TEMPLATES = (r'name\s*=\s*"([^"]*%[sd][^"]*)"\s*%',
              r'name\s*=\s*name\s*\+\s*"([\w.-]+)"',
              r'name\s*=\s*"([\w.-]+)"\s*\+')


def _templates(text: str) -> set[str]:
    """Name templates, with %s for the part that comes from elsewhere."""
    found = set(re.findall(_TEMPLATES[0], text))
    found.update("%s" + x for x in re.findall(_TEMPLATES[1], text))
    found.update(x + "%s" for x in re.findall(_TEMPLATES[2], text))
    return found


@functools.lru_cache(maxsize=4)
def _macro_templates(base: Path) -> frozenset[str]:
    """The templates of the macros (every .bzl file): the sub-targets they make of a name."""
    return frozenset(t for path in base.glob("**/*.bzl")
                     if not path.parts[len(base.parts)].startswith(("bazel-", ".")) and "third_party" not in path.parts
                     for t in _templates(path.read_text(errors="replace")))


def _generated(base: Path, build_text: str, name: str) -> bool:
    """Whether a macro or a comprehension of this BUILD file makes `name` (no Bazel query): a
    template's %s filled with a string the BUILD file holds (a macro's name, a list item)."""
    strings = sorted(set(re.findall(r'"([\w.+-]+)"', build_text)), key=len, reverse=True)
    if not strings:
        return False
    word = "(?:" + "|".join(map(re.escape, strings)) + ")"
    for template in _macro_templates(base) | _templates(build_text):
        pattern = "".join({"%s": word, "%d": r"\d+"}.get(part, re.escape(part))
                          for part in re.split(r"(%[sd])", template))
        if re.fullmatch(pattern, name):
            return True
    return False


def target_exists(base: Path, pkg: str, name: str) -> bool:
    """A rule the package's BUILD file names (as any string: comprehensions take their names from
    lists), a file of the package, or a name a macro or a comprehension makes."""
    if pkg in PSEUDO_PACKAGES:
        return True
    build = _build_file(base, pkg)
    if build is None:
        return False
    text = build.read_text()
    if name in WILDCARDS or f'"{name}"' in text or (base / pkg / name).exists():
        return True
    return _generated(base, text, name)


def _comments(path: Path) -> Iterator[str]:
    """A source file's comments (Python's docstrings too: prose like a comment)."""
    text = path.read_text(errors="replace")
    if path.suffix in (".c", ".h"):
        yield from re.findall(r"/\*.*?\*/", text, re.S)
        return
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT or (tok.type == tokenize.STRING and tok.string.startswith(('"""', "'''"))):
                yield tok.string
    except (tokenize.TokenError, SyntaxError):
        yield from (line for line in text.splitlines() if line.lstrip().startswith("#"))


def stale_labels(base: Path, texts: Iterable[tuple[str, str]]) -> list[str]:
    """(where, text) -> every label in the texts that names no target."""
    return [f"{where}: //{pkg}:{name}" for where, text in texts for pkg, name in LABEL.findall(text)
            if not target_exists(base, pkg, name)]


def _commented_texts(base: Path) -> Iterator[tuple[str, str]]:
    for pattern in COMMENTED:
        for path in sorted(base.glob(pattern)):
            rel = path.relative_to(base)
            if rel.parts[0].startswith(("bazel-", ".")) or "third_party" in rel.parts:
                continue
            for comment in _comments(path):
                yield rel.as_posix(), comment


def test_every_bazel_target_a_doc_or_comment_names_exists():
    base = root()
    docs = [(doc.relative_to(base).as_posix(), token) for doc in _docs() for token in _spans(doc)]
    stale = stale_labels(base, [*docs, *_commented_texts(base)])
    assert not stale, "docs or comments name Bazel targets that do not exist:\n" + "\n".join(stale)


def test_a_stale_target_in_a_comment_fails(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/BUILD.bazel").write_text('py_test(name = "kept")\n[x(name = "%s_shell" % s) for s in ["a"]]\n')
    (tmp_path / "pkg/data.txt").write_text("")
    (tmp_path / "pkg/tool.py").write_text('"""Run //pkg:kept."""\n# was //pkg:renamed_test, see //pkg:a_shell\n'
                                          'URL = "grpc://HOST:PORT"  # //pkg:data.txt, //other:x\n')
    found = stale_labels(tmp_path, _commented_texts(tmp_path))
    assert found == ["pkg/tool.py: //pkg:renamed_test", "pkg/tool.py: //other:x"]


def layout_entries(doc_text: str) -> Iterator[str]:
    """The paths ARCHITECTURE.md's layout block lists: an entry is the text before the first
    double space of a line indented 0 (from the root) or 2 (under the last top-level directory)."""
    block = re.search(r"## Layout.*?```\n(.*?)```", doc_text, re.S)
    assert block, "docs/ARCHITECTURE.md lost its layout block"
    parent = ""
    for line in block.group(1).splitlines():
        indent = len(line) - len(line.lstrip())
        if not line.strip() or indent > 2:
            continue  # a description's continuation
        for token in re.split(r"\s{2,}", line.strip())[0].split(" "):
            yield token if indent == 0 else parent + token
            if indent == 0 and token.endswith("/"):
                parent = token


def missing_layout_entries(base: Path, doc_text: str) -> list[str]:
    return [e for e in layout_entries(doc_text) if not any(base.glob(e.rstrip("/")))]


def test_architecture_layout_block_lists_what_exists():
    missing = missing_layout_entries(root(), (root() / "docs/ARCHITECTURE.md").read_text())
    assert not missing, f"docs/ARCHITECTURE.md's layout names paths that do not exist: {missing}"


def test_a_stale_layout_entry_fails(tmp_path):
    (tmp_path / "ktstr").mkdir()
    (tmp_path / "ktstr/errors.py").write_text("")
    (tmp_path / "README.md").write_text("")
    doc = ("## Layout\n\n```\nREADME.md gone.toml\nktstr/     the package\n  errors.py   the root\n"
           "              errors.py is here (a description)\n  moved.py    was here\n```\n")
    assert missing_layout_entries(tmp_path, doc) == ["gone.toml", "ktstr/moved.py"]


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
