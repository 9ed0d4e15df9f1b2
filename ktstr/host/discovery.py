"""Find @ktstr_test functions in test sources on the host, without importing them.

Test modules import guest-only code (cgroups, workers); the host only needs their names and
the topology/duration they ask for, which the decorator's literal keyword arguments give.
Reading the source with `ast` is deterministic and needs nothing installed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ktstr.errors import KtstrError
from ktstr.topology import Topology, shape_text

DECORATOR_NAMES = {"ktstr_test"}


@dataclass(frozen=True)
class DeclaredTest:
    name: str
    source: Path
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def topology_string(self) -> Optional[str]:
        """`{n}n{l}l{c}c{t}t` from llcs/cores/threads/numa_nodes options (None if none given)."""
        keys = ("numa_nodes", "llcs", "cores", "threads")
        if not any(k in self.options for k in keys):
            topology = self.options.get("topology")
            return topology if isinstance(topology, str) else None
        # The decorator's defaults are Topology's (ktstr.scenario.registry takes the same).
        d = Topology()
        return shape_text(int(self.options.get("numa_nodes", d.numa_nodes)), int(self.options.get("llcs", d.llcs)),
                          int(self.options.get("cores", d.cores_per_llc)),
                          int(self.options.get("threads", d.threads_per_core)))

    def memory_mib(self) -> Optional[int]:
        """The decorator's memory_mib (None: not given, or 0 = the target's)."""
        value = self.options.get("memory_mib")
        if value in (None, 0):
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DiscoveryError(f"{self.source}: test {self.name}: memory_mib={value!r} must be a "
                                 f"literal number of MiB (the host reads it to size the VM)")
        return value


class DiscoveryError(KtstrError, ValueError):
    pass


def _decorator_call(node: ast.expr) -> Optional[ast.Call | ast.expr]:
    target = node.func if isinstance(node, ast.Call) else node
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
    return node if name in DECORATOR_NAMES else None


def list_tests(source: Path) -> list[DeclaredTest]:
    try:
        tree = ast.parse(source.read_text(), filename=str(source))
    except (OSError, SyntaxError) as exc:
        raise DiscoveryError(f"cannot read test source {source}: {exc}") from exc
    tests = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            if _decorator_call(dec) is None:
                continue
            options: dict[str, Any] = {}
            if isinstance(dec, ast.Call):
                for kw in dec.keywords:
                    if kw.arg is None:
                        continue
                    try:
                        options[kw.arg] = ast.literal_eval(kw.value)
                    except ValueError:
                        options[kw.arg] = ast.unparse(kw.value)  # not a literal: keep the text
            tests.append(DeclaredTest(node.name, source, options))
            break
    return tests


def list_all(sources: list[Path]) -> list[DeclaredTest]:
    tests: list[DeclaredTest] = []
    seen: dict[str, Path] = {}
    for src in sources:
        for t in list_tests(src):
            if t.name in seen:
                raise DiscoveryError(f"test {t.name!r} is defined in both {seen[t.name]} and {src}")
            seen[t.name] = src
            tests.append(t)
    return tests


def select(tests: list[DeclaredTest], wanted: str, test_filter: str = "") -> list[DeclaredTest]:
    """Pick the named tests ('' = all; a comma list of exact names), then apply Bazel's
    --test_filter (comma list of names or substrings)."""
    chosen = tests
    if wanted:
        names = [w.strip() for w in wanted.split(",") if w.strip()]
        known = {t.name for t in tests}
        missing = [n for n in names if n not in known]
        if missing:
            found = ", ".join(sorted(known)) or "none"
            raise DiscoveryError(f"test {', '.join(repr(m) for m in missing)} not found in the "
                                   f"sources (found: {found})")
        chosen = [t for t in tests if t.name in names]
    if test_filter:
        pats = [p.strip() for p in test_filter.split(",") if p.strip()]
        chosen = [t for t in chosen if any(p == t.name or p in t.name for p in pats)]
    return chosen
