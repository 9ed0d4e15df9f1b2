"""Lists and grammars kept both in Starlark and in Python, compared (test_cross_lists.py).

Bazel's Starlark cannot import Python, so a few facts are written twice: the engine names
(rules/private/engines.bzl, ktstr/host/engines/select.py) and the topology grammar
(rules/private/topology.bzl, ktstr/topology.py). The .bzl files involved use only the Starlark
Python can execute too, so they are run here with `load` and `fail` supplied.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from tools.lint.starlark import label_path


class StarlarkFail(Exception):
    """A fail() of the executed Starlark."""


def _fail(*args: Any) -> None:
    raise StarlarkFail(" ".join(str(a) for a in args))


def run_bzl(root: Path, rel: str, text: Optional[str] = None) -> dict[str, Any]:
    """The globals of a .bzl file executed as Python (its loads followed in the checkout)."""
    scope: dict[str, Any] = {"fail": _fail}

    def load(label: str, *names: str, **renamed: str) -> None:
        loaded = run_bzl(root, label_path(label, rel))
        for name in names:
            scope[name] = loaded[name]
        for local, name in renamed.items():
            scope[local] = loaded[name]

    scope["load"] = load
    exec(compile(text if text is not None else (root / rel).read_text(), rel, "exec"), scope)
    return scope


def list_mismatch(a_name: str, a: Sequence[str], b_name: str, b: Sequence[str]) -> list[str]:
    """What differs between two lists meant to be equal (order included), as sentences."""
    out = [f"{name} is in {a_name} but not in {b_name}" for name in a if name not in b]
    out += [f"{name} is in {b_name} but not in {a_name}" for name in b if name not in a]
    if not out and list(a) != list(b):
        out.append(f"{a_name} and {b_name} list the same names in another order: {list(a)} vs {list(b)}")
    return out


def topology_disagreements(starlark_parse: Callable[[str], dict[str, int]],
                           python_parse: Callable[[str], Any], specs: Iterable[str]) -> list[str]:
    """The specs the two parsers judge differently (one refuses, or the counts differ)."""
    out = []
    for spec in specs:
        try:
            s: Optional[dict[str, int]] = starlark_parse(spec)
            s_err = ""
        except StarlarkFail as e:
            s, s_err = None, str(e)
        try:
            topo = python_parse(spec)
            p: Optional[dict[str, int]] = {"numa_nodes": topo.numa_nodes, "llcs": topo.llcs,
                                           "cores_per_llc": topo.cores_per_llc,
                                           "threads_per_core": topo.threads_per_core, "cpus": topo.cpus}
            p_err = ""
        except ValueError as e:
            p, p_err = None, str(e)
        if s != p:
            out.append(f"{spec!r}: Starlark {s or 'refuses: ' + s_err}, Python {p or 'refuses: ' + p_err}")
    return out


_DEFS_LOAD = re.compile(r'load\(\s*"(?:@ktstr)?//rules:defs\.bzl"\s*,(?P<names>[^)]*)\)')


def defs_loads(text: str) -> list[str]:
    """The names a text (BUILD file, .bzl, README snippet) loads from ktstr's defs.bzl."""
    return [name for m in _DEFS_LOAD.finditer(text) for name in re.findall(r'"([^"]+)"', m.group("names"))]
