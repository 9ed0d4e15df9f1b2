"""ktstr's exceptions have one root, read from the source (nothing is imported).

An entry point catches KtstrError, shows its message and exits 2; anything else is a bug
and keeps its traceback (ktstr/errors.py). That holds only if (checked by
tools/lint/test_exceptions.py):
- every exception class ktstr defines derives from KtstrError (through any chain of its
  own classes);
- `host/` and `wire/` raise no built-in exception by name: each error there is one of ours,
  with a class that says what went wrong (it keeps ValueError, OSError, ... as a second
  base for callers that catch those);
- nowhere in ktstr is a bare ValueError or RuntimeError raised: those are the built-ins
  that mean "bad input" or "it did not work", exactly what KtstrError is for;
- no `except` names a KtstrError together with a built-in other than OSError (the
  machine's refusal: a file, a device): a tuple such as `(KtstrError, ValueError)` hides a
  bug's ValueError behind a one-line message.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

ROOT = "KtstrError"
BUILTIN_ERRORS = frozenset(n for n, v in vars(builtins).items()
                           if isinstance(v, type) and issubclass(v, Exception))  # not SystemExit, KeyboardInterrupt
NO_BUILTIN_RAISE = ("host", "wire")  # subpackages that raise only their own classes
NEVER_RAISED = frozenset({"ValueError", "RuntimeError"})
CATCH_BESIDE_ROOT = frozenset({"OSError"})
# (path under the package, built-in): left as is, with the reason.
ALLOWED: dict[tuple[str, str], str] = {
    # kernel/ is the kernel build tool's source: any edit re-keys (rebuilds) every kernel,
    # so it changes with the next kernel change, not alone.
    ("kernel/cache.py", "ValueError"): "the kernel build action's sources",
}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _trees(root: Path) -> list[tuple[str, ast.Module]]:
    return [(path.relative_to(root).as_posix(), ast.parse(path.read_text(), filename=str(path)))
            for path in sorted(root.rglob("*.py"))]


def _classes(trees: list[tuple[str, ast.Module]]) -> dict[str, list[tuple[str, int, list[str]]]]:
    """class name -> every definition: (file, line, base names)."""
    out: dict[str, list[tuple[str, int, list[str]]]] = {}
    for rel, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                out.setdefault(node.name, []).append((rel, node.lineno, [_name(b) for b in node.bases]))
    return out


def _rooted(classes: dict[str, list[tuple[str, int, list[str]]]]) -> tuple[set[str], set[str]]:
    """(names of ktstr's exception classes, those of them that derive from KtstrError)."""
    errors, rooted = set(BUILTIN_ERRORS), {ROOT}
    changed = True
    while changed:
        changed = False
        for name, defs in classes.items():
            bases = {b for _, _, bs in defs for b in bs}
            if name not in errors and bases & errors:
                errors.add(name)
                changed = True
            if name not in rooted and all(set(bs) & rooted for _, _, bs in defs):
                rooted.add(name)
                changed = True
    return errors - BUILTIN_ERRORS, rooted


def violations(root: Path) -> list[str]:
    trees = _trees(root)
    classes = _classes(trees)
    errors, rooted = _rooted(classes)
    out = []
    for name in sorted(errors - rooted):
        for rel, line, bases in classes[name]:
            out.append(f"{root.name}/{rel}:{line}: class {name}({', '.join(bases)}) does not derive from {ROOT}")
    for rel, tree in trees:
        where = rel.split("/")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                name = _name(exc)
                if name not in BUILTIN_ERRORS or (rel, name) in ALLOWED:
                    continue
                if where in NO_BUILTIN_RAISE or name in NEVER_RAISED:
                    out.append(f"{root.name}/{rel}:{node.lineno}: raise {name}: raise a {ROOT} subclass that "
                               f"names the error (keeping {name} as a base if callers catch it)")
            elif isinstance(node, ast.ExceptHandler) and isinstance(node.type, ast.Tuple):
                names = [_name(e) for e in node.type.elts]
                broad = [n for n in names if n in BUILTIN_ERRORS and n not in CATCH_BESIDE_ROOT]
                if any(n in rooted for n in names) and broad:
                    out.append(f"{root.name}/{rel}:{node.lineno}: except ({', '.join(names)}): catch the "
                               f"{ROOT} (and OSError); a {', '.join(broad)} here would be a bug's, hidden")
    return out
