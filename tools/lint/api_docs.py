"""docs/api.md from the rule definitions: what rules/defs.bzl exports, with each rule's doc and
public attributes, each macro's docstring and signature, each provider's fields.

Stardoc is not available offline, so this reads the .bzl files with the Starlark gate's
reader (tools/lint/starlark.py). test_api_docs.py fails when docs/api.md is stale.

    python3 -m tools.lint.api_docs          # rewrite docs/api.md
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from tools.lint import starlark

DEFS = "rules/defs.bzl"
API_DOC = "docs/api.md"

HEADER = """# ktstr's Starlark API

Generated from the rule definitions by `python3 -m tools.lint.api_docs` (do not edit:
`//tools/lint:lint_test` fails when this file differs from what the rules say). Everything
here is loaded from `@ktstr//rules:defs.bzl`.
"""


@dataclass(frozen=True)
class Entry:
    """One exported name and where it is defined."""
    name: str
    file: starlark.BzlFile
    node: ast.AST  # the rule()/provider() call, the macro's def, or a constant's value


def exports(tree: starlark.Tree) -> list[Entry]:
    """The public names of rules/defs.bzl, in its order, followed to their definitions."""
    defs = tree.file(DEFS)
    assert defs is not None, DEFS
    out = []
    for name, value in defs.assigned.items():
        if name.startswith("_"):
            continue
        f, node = tree.resolve(defs, value)
        if isinstance(node, ast.Name) and node.id in f.functions:
            out.append(Entry(name, f, f.functions[node.id]))
        elif isinstance(node, ast.Name) and node.id in f.loaded:
            # resolve() stops at a name it cannot follow further: a function in another file.
            path, orig = f.loaded[node.id]
            other = tree.file(path)
            if other is None or orig not in other.functions:
                raise ValueError(f"{DEFS}: cannot follow {name} to its definition")
            out.append(Entry(name, other, other.functions[orig]))
        else:
            out.append(Entry(name, f, node))
    return out


def _kwarg(call: ast.Call, name: str) -> Optional[ast.expr]:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def attr_table(tree: starlark.Tree, f: starlark.BzlFile, call: ast.Call) -> list[str]:
    """The public attributes of a rule() call as a Markdown table."""
    attrs = _kwarg(call, "attrs")
    if attrs is None:
        return []
    findings: list[starlark.Finding] = []
    rows = ["| attribute | type | default | doc |", "|---|---|---|---|"]
    for name, value, where in tree.attrs(f, attrs, findings):
        if name.startswith("_"):
            continue
        _, value = tree.resolve(where, value)
        kind, default, doc = "?", "", ""
        if isinstance(value, ast.Call):
            kind = ast.unparse(value.func)
            if (d := _kwarg(value, "default")) is not None:
                default = ast.unparse(d)
            if (m := _kwarg(value, "mandatory")) is not None and ast.unparse(m) == "True":
                default = "mandatory"
            if (text := _kwarg(value, "doc")) is not None:
                doc = starlark.string(text) or ast.unparse(text)
        shown = f"`{default}`" if default and default != "mandatory" else default
        rows.append(f"| `{name}` | `{kind}` | {_cell(shown)} | {_cell(doc)} |")
    if findings:
        raise ValueError("; ".join(str(x) for x in findings))
    return rows


def _rule_called_by(f: starlark.BzlFile, func: ast.FunctionDef) -> Optional[ast.Call]:
    """The rule() a macro wraps: a name in its body (called, or passed to a helper such as
    platform.bzl's on_linux_x86_64) that this file binds to rule()."""
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and starlark.call_name(f.assigned.get(node.id, ast.Pass())) == "rule":
            value = f.assigned[node.id]
            assert isinstance(value, ast.Call)
            return value
    return None


def _signature(func: ast.FunctionDef) -> str:
    args = func.args
    parts = []
    plain = args.args
    defaults = [None] * (len(plain) - len(args.defaults)) + list(args.defaults)
    for a, d in zip(plain, defaults, strict=True):
        parts.append(a.arg if d is None else f"{a.arg} = {ast.unparse(d)}")
    if args.vararg:
        parts.append("*" + args.vararg.arg)
    if args.kwarg:
        parts.append("**" + args.kwarg.arg)
    return f"{func.name}({', '.join(parts)})"


def section(tree: starlark.Tree, e: Entry) -> list[str]:
    """One exported name's section."""
    out = [f"## {e.name}", "", f"Defined in `{e.file.rel}`.", ""]
    node = e.node
    if isinstance(node, ast.FunctionDef):
        out += ["```python", _signature(node), "```", "", ast.get_docstring(node) or "(no docstring)", ""]
        wrapped = _rule_called_by(e.file, node)
        if wrapped is not None:
            doc = _kwarg(wrapped, "doc")
            out += ["Rule attributes" + (f": {_cell(starlark.string(doc) or '')}" if doc is not None else ":"), ""]
            out += attr_table(tree, e.file, wrapped) + [""]
    elif starlark.call_name(node) == "rule":
        assert isinstance(node, ast.Call)
        doc = _kwarg(node, "doc")
        out += [starlark.string(doc) or "" if doc is not None else "", ""]
        out += attr_table(tree, e.file, node) + [""]
    elif starlark.call_name(node) == "provider":
        assert isinstance(node, ast.Call)
        doc = _kwarg(node, "doc")
        out += [(starlark.string(doc) or "") if doc is not None else "", "", "| field | doc |", "|---|---|"]
        fields = _kwarg(node, "fields")
        if isinstance(fields, ast.Dict):
            for k, v in zip(fields.keys, fields.values, strict=True):
                out.append(f"| `{starlark.string(k) if k is not None else '?'}` | {_cell(starlark.string(v) or '')} |")
        elif isinstance(fields, ast.List):
            out += [f"| `{starlark.string(x)}` | |" for x in fields.elts]
        out.append("")
    else:
        out += ["A constant:", "", "```python", f"{e.name} = {ast.unparse(node)}", "```", ""]
    return out


def render(tree: starlark.Tree) -> str:
    lines = [HEADER]
    for e in exports(tree):
        lines += section(tree, e)
    return "\n".join(lines).rstrip("\n") + "\n"


def stale(root: Path, tree: Optional[starlark.Tree] = None) -> Optional[str]:
    """None if docs/api.md is what the rules say, else what to do about it."""
    want = render(tree or starlark.Tree(root))
    have = (root / API_DOC).read_text() if (root / API_DOC).exists() else ""
    if want == have:
        return None
    return (f"{API_DOC} is stale: it differs from what the rule definitions say; regenerate it "
            "with `python3 -m tools.lint.api_docs` and commit it")


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    (root / API_DOC).write_text(render(starlark.Tree(root)))
    print(f"wrote {API_DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
