"""ktstr's import layering, read from the source (no import is executed).

A *unit* is a direct child of the package: a subpackage (`ktstr/host/`) or a module
(`ktstr/errors.py`); the package's own `__init__.py` is the unit `ktstr` (the test authors'
facade). Every import counts wherever it is written: at the top, inside a function (a lazy
import that hides a cycle from Python but not from the design), under `if TYPE_CHECKING`,
and `importlib.import_module("ktstr.x")` with a literal name.

The rules (RULES below, checked by tools/lint/test_layering.py):
- `wire` (everything that crosses a process boundary) imports nothing of ktstr but the leaf
  `errors` (its errors must derive from KtstrError like every other; `errors` imports
  nothing of ktstr, so the leaf stays a leaf);
- `guest` (runs in the VM) never imports `host`, and `host` never imports `monitor` (a boot
  hook the entry point hands to the runner);
- nothing imports `cli`, where every entry point lives;
- no cycle among the units.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional


@dataclass(frozen=True)
class Edge:
    src: str  # importing unit
    dst: str  # imported unit
    where: str  # file:line of the import
    lazy: bool  # inside a function body

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} ({self.where}{', in a function' if self.lazy else ''})"


# (unit, the only units of the package it may import); None: anything.
ONLY: dict[str, frozenset[str]] = {
    "wire": frozenset({"errors"}),
    "errors": frozenset(),
}
# (unit, a unit it must never import).
NEVER: tuple[tuple[str, str], ...] = (
    ("guest", "host"),
    ("host", "monitor"),  # the runner reaches the monitor as a boot hook (ktstr/host/hooks.py)
)
# Entry points: they import the rest, nothing imports them.
ENTRY = "cli"


def _module_name(path: Path, root: Path, package: str) -> tuple[str, bool]:
    """The dotted name of a source file, and whether it is a package's __init__."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_init = parts[-1] == "__init__"
    if is_init:
        parts = parts[:-1]
    return ".".join([package, *parts]), is_init


def _unit(module: str, package: str) -> Optional[str]:
    if module == package:
        return package
    if module.startswith(package + "."):
        return module.split(".")[1]
    return None


def _is_module(name: str, root: Path, package: str) -> bool:
    rel = Path(*name.split(".")[1:]) if name != package else Path()
    return (root / rel).with_suffix(".py").is_file() or (root / rel / "__init__.py").is_file()


def _imported(node: ast.AST, module: str, is_init: bool, root: Path, package: str) -> Iterator[str]:
    """The dotted names an import statement (or import_module call) brings in."""
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".")
            keep = len(base) - node.level + (1 if is_init else 0)
            base = base[:keep]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for a in node.names:
            # `from ktstr.host import runner` imports the module ktstr.host.runner.
            full = f"{target}.{a.name}"
            yield full if _is_module(full, root, package) else target
    elif isinstance(node, ast.Call):
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            yield node.args[0].value


def _walk(tree: ast.AST) -> Iterator[tuple[ast.AST, bool]]:
    """Every node, with whether it sits inside a function body."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, lazy = stack.pop()
        yield node, lazy
        inner = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))


def import_edges(root: Path, package: str) -> list[Edge]:
    """The imports between units of the package at `root` (the directory holding its
    __init__.py), one edge per import site."""
    edges = []
    for path in sorted(root.rglob("*.py")):
        module, is_init = _module_name(path, root, package)
        src = _unit(module, package)
        assert src is not None
        tree = ast.parse(path.read_text(), filename=str(path))
        for node, lazy in _walk(tree):
            for name in _imported(node, module, is_init, root, package):
                dst = _unit(name, package)
                if dst is not None and dst != src:
                    line = getattr(node, "lineno", 0)  # every import node has one
                    edges.append(Edge(src, dst, f"{path.relative_to(root.parent)}:{line}", lazy))
    return edges


def cycles(edges: list[Edge]) -> list[list[str]]:
    """The strongly connected groups of more than one unit (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.src, set()).add(e.dst)
        graph.setdefault(e.dst, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(groups)


def violations(root: Path, package: str) -> list[str]:
    """Every broken rule, each naming the import sites that break it."""
    edges = import_edges(root, package)
    out = []
    for e in edges:
        allowed = ONLY.get(e.src)
        if allowed is not None and e.dst not in allowed:
            out.append(f"{e}: {e.src} may import only {sorted(allowed) or 'nothing'} of {package}")
        if (e.src, e.dst) in NEVER:
            out.append(f"{e}: {e.src} must never import {e.dst}")
        if e.dst == ENTRY:
            out.append(f"{e}: {ENTRY} holds the entry points, which nothing imports (move what both "
                       f"need out of {ENTRY})")
    for group in cycles(edges):
        sites = [str(e) for e in edges if e.src in group and e.dst in group]
        out.append(f"import cycle among {', '.join(group)}:\n    " + "\n    ".join(sites))
    return out
