"""What the Starlark gate reads in ktstr's .bzl files, without Bazel.

Starlark's syntax is a subset of Python's, so `ast` parses every .bzl file here. From that the
gate (test_starlark.py) checks the rules' shape:

- every public attribute (a name without a leading `_`) of every `rule`, `repository_rule`
  and `tag_class` has a non-empty `doc=`;
- a file defines at most one rule;
- a provider of rules/providers.bzl is called only there (by its validating factory).

An attrs value the reader cannot follow (anything but dict literals, names bound to them, in
this file or loaded from another, and merge_attrs()/dict() of those) is itself a finding: a
rule cannot escape the check by building its attrs in a way the reader does not see.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

RULE_FUNCTIONS = ("rule", "repository_rule", "tag_class")
# Calls that merge attrs dicts (rules/private/attrs.bzl's merge_attrs, and dict()).
MERGE_FUNCTIONS = ("merge_attrs", "dict")
PROVIDERS_FILE = "rules/providers.bzl"


@dataclass(frozen=True)
class Finding:
    path: str  # relative to the root
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


class BzlFile:
    """One parsed .bzl file: its module-level names and what it loads."""

    def __init__(self, root: Path, rel: str, text: Optional[str] = None) -> None:
        self.root = root
        self.rel = rel
        self.tree = ast.parse(text if text is not None else (root / rel).read_text(), filename=rel)
        self.assigned: dict[str, ast.expr] = {}
        self.functions: dict[str, ast.FunctionDef] = {}  # macros and helpers, by name
        self.loaded: dict[str, tuple[str, str]] = {}  # local name -> (file, name there)
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.assigned[node.targets[0].id] = node.value
            elif isinstance(node, ast.Expr) and _call_name(node.value) == "load":
                call = node.value
                assert isinstance(call, ast.Call)
                label = _string(call.args[0]) if call.args else None
                if label is None:
                    continue
                target = label_path(label, rel)
                for arg in call.args[1:]:
                    name = _string(arg)
                    if name is not None:
                        self.loaded[name] = (target, name)
                for kw in call.keywords:
                    name = _string(kw.value)
                    if kw.arg and name is not None:
                        self.loaded[kw.arg] = (target, name)


def label_path(label: str, rel: str) -> str:
    """The checkout path of a .bzl label of this repository ("//rules:private/x.bzl",
    ":x.bzl" relative to `rel`'s package); other repositories' labels stay as they are."""
    if label.startswith("@ktstr//"):
        label = label[len("@ktstr"):]
    if label.startswith("//"):
        package, _, name = label[2:].partition(":")
        return f"{package}/{name}" if package else name
    if label.startswith(":"):
        return str(Path(rel).parent / label[1:])
    return label


def call_name(node: ast.AST) -> Optional[str]:
    """The called name of `name(...)`, else None."""
    return _call_name(node)


def string(node: ast.AST) -> Optional[str]:
    """The value of a string literal, else None."""
    return _string(node)


def _call_name(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _string(node: ast.AST) -> Optional[str]:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class Tree:
    """The .bzl files of a checkout (or given texts, for the gate's own tests)."""

    def __init__(self, root: Path, texts: Optional[dict[str, str]] = None) -> None:
        self.root = root
        self.texts = texts or {}
        self._files: dict[str, Optional[BzlFile]] = {}

    def file(self, rel: str) -> Optional[BzlFile]:
        if rel not in self._files:
            if rel in self.texts:
                self._files[rel] = BzlFile(self.root, rel, self.texts[rel])
            elif not rel.startswith("@") and (self.root / rel).is_file():
                self._files[rel] = BzlFile(self.root, rel)
            else:
                self._files[rel] = None
        return self._files[rel]

    def resolve(self, f: BzlFile, node: ast.expr, depth: int = 0) -> tuple[BzlFile, ast.expr]:
        """Follows a name to the expression bound to it (through loads)."""
        while isinstance(node, ast.Name) and depth < 20:
            depth += 1
            if node.id in f.assigned:
                node = f.assigned[node.id]
            elif node.id in f.loaded:
                path, name = f.loaded[node.id]
                other = self.file(path)
                if other is None:
                    break
                f, node = other, ast.Name(id=name, ctx=ast.Load(), lineno=node.lineno, col_offset=0)
            else:
                break
        return f, node

    def attrs(self, f: BzlFile, node: ast.expr, findings: list[Finding],
              depth: int = 0) -> list[tuple[str, ast.expr, BzlFile]]:
        """The (name, value, file) of every attribute an attrs expression declares."""
        f, node = self.resolve(f, node)
        if isinstance(node, ast.Dict):
            out = []
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:  # {**other}
                    out += self.attrs(f, value, findings, depth + 1)
                elif (name := _string(key)) is not None:
                    out.append((name, value, f))
                else:
                    findings.append(Finding(f.rel, key.lineno, "attribute name is not a string literal"))
            return out
        if _call_name(node) in MERGE_FUNCTIONS and depth < 20:
            assert isinstance(node, ast.Call)
            out = []
            for arg in node.args:
                out += self.attrs(f, arg, findings, depth + 1)
            for kw in node.keywords:
                if kw.arg is None:
                    out += self.attrs(f, kw.value, findings, depth + 1)
                else:
                    out.append((kw.arg, kw.value, f))
            return out
        findings.append(Finding(f.rel, getattr(node, "lineno", 0),
                                "attrs the lint cannot read (use a dict literal, a name bound to one, "
                                "or merge_attrs())"))
        return []


def _rule_calls(f: BzlFile) -> list[ast.Call]:
    return [n for n in ast.walk(f.tree) if isinstance(n, ast.Call) and _call_name(n) in RULE_FUNCTIONS]


def _has_doc(call: ast.expr) -> bool:
    if not isinstance(call, ast.Call):
        return False
    for kw in call.keywords:
        if kw.arg == "doc":
            text = _string(kw.value)
            return text is None or bool(text.strip())  # an expression: trusted to be text
    return False


def undocumented_attrs(tree: Tree, rel: str) -> list[Finding]:
    """Public attributes without doc= of the rules defined in `rel`."""
    f = tree.file(rel)
    assert f is not None, rel
    findings: list[Finding] = []
    for call in _rule_calls(f):
        for kw in call.keywords:
            if kw.arg != "attrs":
                continue
            for name, value, where in tree.attrs(f, kw.value, findings):
                if name.startswith("_"):
                    continue
                owner, value = tree.resolve(where, value)
                if not _has_doc(value):
                    findings.append(Finding(owner.rel, getattr(value, "lineno", call.lineno),
                                            f"attribute {name!r} of the {_call_name(call)} at {rel}:{call.lineno} "
                                            f"has no doc= (say what it is and what it defaults to)"))
    return findings


def rule_count(tree: Tree, rel: str) -> list[Finding]:
    """More than one rule() in a file is a finding (one rule per file)."""
    f = tree.file(rel)
    assert f is not None, rel
    rules = [c for c in _rule_calls(f) if _call_name(c) == "rule"]
    if len(rules) <= 1:
        return []
    return [Finding(rel, rules[1].lineno, f"{len(rules)} rules in one file (lines "
                                          f"{', '.join(str(c.lineno) for c in rules)}): give each its own file")]


def provider_names(tree: Tree) -> set[str]:
    f = tree.file(PROVIDERS_FILE)
    assert f is not None, PROVIDERS_FILE
    return {name for name, value in f.assigned.items() if _call_name(value) == "provider"}


def raw_provider_calls(tree: Tree, rel: str, providers: set[str]) -> list[Finding]:
    """Calls of a providers.bzl provider outside the factories of providers.bzl."""
    f = tree.file(rel)
    assert f is not None, rel
    out = []
    for node in ast.walk(f.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            original = f.loaded.get(name, (rel, name))
            if original[1] in providers and (rel != PROVIDERS_FILE or _top_level(f, node)):
                out.append(Finding(rel, node.lineno, f"{original[1]}(...) called directly: use its make_* "
                                                     f"factory in {PROVIDERS_FILE}, which checks the fields"))
    return out


def _top_level(f: BzlFile, call: ast.Call) -> bool:
    """In providers.bzl only the factories (functions) may call a provider."""
    for node in f.tree.body:
        if isinstance(node, ast.FunctionDef) and any(n is call for n in ast.walk(node)):
            return False
    return True


def bzl_files(root: Path, under: str = "rules") -> list[str]:
    return sorted(str(p.relative_to(root)) for p in (root / under).rglob("*.bzl"))
