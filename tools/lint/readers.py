"""The one-reader-per-format gate: each format that crosses a process boundary is parsed by
its one module in ktstr/wire, and by no other.

A parse is a json.load / json.loads call, or a `.partition("=")` / `.split("=")` of
key=value text. A function (or module body) of ktstr/ that parses and names a format (its
file name, its constant, its type) is reading that format; outside the format's home that
is a second reader, which is how result.json came to have four.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Format:
    name: str
    home: str  # the one module that reads it, relative to the package root
    markers: re.Pattern[str]  # how code that reads it names it


FORMATS = (
    Format("result.json", "wire/results.py", re.compile(r"result\.json|RESULT_NAME|RunReport|BootRecord")),
    Format("run.json", "wire/run_config.py", re.compile(r"run\.json|RUN_JSON|RunConfig")),
    Format("the target config", "wire/target_config.py",
           re.compile(r"--config|args\.config|target config|\bcfg\s*=\s*json\.load")),
    Format("the VMM exit report", "wire/vmm_report.py", re.compile(r"VmmExitReport|VmExit\b|exit report")),
    Format("verifier records", "wire/verifier.py", re.compile(r"KTSTR_VERIFIER|VerifierRecord")),
)


def _is_parse(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    f = node.func
    if f.attr in ("load", "loads") and isinstance(f.value, ast.Name) and f.value.id == "json":
        return True
    return (f.attr in ("partition", "split") and bool(node.args) and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "=")


def _scopes(tree: ast.Module) -> list[ast.AST]:
    """Each function, and the module body outside them."""
    return [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]


def _own_parses(scope: ast.AST) -> list[ast.Call]:
    """The parse calls of this scope, not of the functions nested in it."""
    out: list[ast.Call] = []
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if _is_parse(node):
            out.append(node)  # type: ignore[arg-type]
        todo.extend(ast.iter_child_nodes(node))
    return out


def violations(package: Path, formats: tuple[Format, ...] = FORMATS) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        text = path.read_text()
        tree = ast.parse(text, str(path))
        for scope in _scopes(tree):
            parses = _own_parses(scope)
            if not parses:
                continue
            if isinstance(scope, ast.Module):
                source = "\n".join(ast.get_source_segment(text, p) or "" for p in parses)
                name = "<module>"
            else:
                source = ast.get_source_segment(text, scope) or ""
                name = scope.name  # type: ignore[attr-defined]
            for fmt in formats:
                if rel != fmt.home and fmt.markers.search(source):
                    found.append(f"{package.name}/{rel}:{parses[0].lineno} {name}() parses {fmt.name}, "
                                 f"whose one reader is {package.name}/{fmt.home}: call that instead")
    return found
