"""Why did an option not stick? Read the Kconfig files of the kernel source tree.

This is a small reader of the Kconfig language, enough to explain verify failures: for
each `config NAME` it records the conditions it lives under (enclosing `if` blocks, `menu`
and `choice` dependencies, its own `depends on`), its prompt condition, its `range`, and
who `select`s it. The conditions are evaluated against the final .config so an error can
say "depends on PCI (PCI=n)" instead of just "did not stick".
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from pathlib import Path

TRISTATE = {"n": 0, "m": 1, "y": 2}


@dataclass
class Definition:
    """One `config NAME` block (a symbol may be defined in several places)."""

    name: str
    location: str
    conditions: list[str] = field(default_factory=list)  # enclosing if/menu/choice + depends on
    prompt_conditions: list[str] = field(default_factory=list)  # "if EXPR" on the prompt
    has_prompt: bool = False
    ranges: list[str] = field(default_factory=list)
    choice: str | None = None  # location of the enclosing `choice`, for choice members


@dataclass
class Select:
    selector: str
    condition: str | None
    location: str


@dataclass
class KconfigTree:
    definitions: dict[str, list[Definition]] = field(default_factory=dict)
    selected_by: dict[str, list[Select]] = field(default_factory=dict)
    choice_members: dict[str, list[str]] = field(default_factory=dict)  # choice location -> names


_ENTRY_RE = re.compile(r"^(menuconfig|config)\s+([A-Za-z0-9_]+)\s*$")
_SOURCE_RE = re.compile(r'^(source|rsource|osource|orsource)\s+"([^"]+)"')
_PROMPT_TYPES = ("bool", "tristate", "string", "int", "hex", "prompt")
_VAR_RE = re.compile(r"\$\(([A-Za-z0-9_]+)\)")


def _indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def _split_if(text: str) -> tuple[str, str | None]:
    """Split 'X if EXPR' (outside quotes) into ('X', 'EXPR')."""
    in_quote = False
    for i, ch in enumerate(text):
        if ch == '"':
            in_quote = not in_quote
        elif not in_quote and text.startswith(" if ", i):
            return text[:i].strip(), text[i + 4 :].strip()
    return text.strip(), None


class _Reader:
    def __init__(self, srctree: Path, variables: dict[str, str]) -> None:
        self.srctree = srctree
        self.variables = variables
        self.tree = KconfigTree()
        # Stack of (kind, condition or None); kind in {"if", "menu", "choice"}.
        self.stack: list[tuple[str, str | None]] = []
        self.choices: list[str] = []  # locations of the open `choice` blocks

    def read(self, relpath: str) -> None:
        path = self.srctree / relpath
        lines = self._logical_lines(path)
        entry: Definition | None = None
        block: list | None = None  # the stack slot a `depends on` after menu/choice extends
        help_indent: int | None = None
        for number, raw in lines:
            if help_indent is not None:
                if not raw.strip() or _indent(raw) > help_indent:
                    continue
                help_indent = None
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            location = f"{relpath}:{number}"
            keyword = line.split(None, 1)[0]
            m = _ENTRY_RE.match(line)
            if m:
                entry = Definition(m.group(2), location, [c for _, c in self.stack if c])
                entry.choice = self.choices[-1] if self.choices else None
                self.tree.definitions.setdefault(entry.name, []).append(entry)
                if entry.choice:
                    self.tree.choice_members.setdefault(entry.choice, []).append(entry.name)
                block = None
                continue
            if keyword in ("help", "---help---"):
                help_indent = _indent(raw)
                continue
            m = _SOURCE_RE.match(line)
            if m:
                entry, block = None, None
                self._source(m.group(1), m.group(2), path)
                continue
            if keyword == "if":
                self.stack.append(("if", line[2:].strip()))
                entry, block = None, None
            elif keyword in ("menu", "choice"):
                self.stack.append((keyword, None))
                if keyword == "choice":
                    self.choices.append(location)
                entry, block = None, [len(self.stack) - 1]
            elif keyword in ("endif", "endmenu", "endchoice"):
                if self.stack:
                    self.stack.pop()
                if keyword == "endchoice" and self.choices:
                    self.choices.pop()
                entry, block = None, None
            elif keyword in ("comment", "mainmenu"):
                entry, block = None, None
            elif keyword == "depends" and line.startswith("depends on"):
                expr = line[len("depends on") :].strip()
                if entry is not None:
                    entry.conditions.append(expr)
                elif block is not None:
                    kind, cond = self.stack[block[0]]
                    self.stack[block[0]] = (kind, f"({cond}) && ({expr})" if cond else expr)
            elif entry is not None:
                self._property(entry, keyword, line, location)

    def _property(self, entry: Definition, keyword: str, line: str, location: str) -> None:
        rest = line[len(keyword) :].strip()
        if keyword in _PROMPT_TYPES or keyword.startswith("def_"):
            if keyword in _PROMPT_TYPES and rest.startswith('"'):
                entry.has_prompt = True
                _, cond = _split_if(rest)
                if cond:
                    entry.prompt_conditions.append(cond)
        elif keyword == "select":  # `imply` is only a weak default, it never forces a value
            target, cond = _split_if(rest)
            self.tree.selected_by.setdefault(target, []).append(Select(entry.name, cond, location))
        elif keyword == "range":
            entry.ranges.append(rest)

    def _source(self, kind: str, pattern: str, current: Path) -> None:
        def substitute(m: re.Match) -> str:
            return self.variables.get(m.group(1), "\0")

        expanded = _VAR_RE.sub(substitute, pattern)
        if "\0" in expanded:
            return  # an unknown $(VAR): cannot resolve, skip (explanations stay partial)
        base = current.parent if kind in ("rsource", "orsource") else self.srctree
        for found in sorted(glob.glob(str(base / expanded))):
            self.read(str(Path(found).relative_to(self.srctree)))

    @staticmethod
    def _logical_lines(path: Path) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        pending = ""
        start = 0
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            if not pending:
                start = number
            if pending:
                line = line.lstrip()
            if line.endswith("\\"):
                pending += line[:-1].rstrip() + " "
                continue
            out.append((start, pending + line))
            pending = ""
        return out


def read_kconfig_tree(srctree: str | Path, srcarch: str = "x86", arch: str = "x86_64") -> KconfigTree:
    """Read the whole Kconfig tree starting at `srctree/Kconfig`."""
    srctree = Path(srctree)
    reader = _Reader(srctree, {"SRCARCH": srcarch, "ARCH": arch, "HEADER_ARCH": srcarch})
    reader.read("Kconfig")
    return reader.tree


# --- expression evaluation -----------------------------------------------------------------

_TOKEN_RE = re.compile(r'\s*(&&|\|\||!=|<=|>=|[!()=<>]|"[^"]*"|\$\([^)]*\)|[A-Za-z0-9_.+-]+)')


class _Expr:
    """Recursive-descent evaluator of Kconfig expressions; returns 0 (n), 1 (m) or 2 (y)."""

    def __init__(self, text: str, values: dict[str, str]) -> None:
        self.tokens = _TOKEN_RE.findall(text)
        self.pos = 0
        self.values = values
        self.symbols: list[str] = []

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> int:
        return self._or()

    def _or(self) -> int:
        value = self._and()
        while self._peek() == "||":
            self._next()
            value = max(value, self._and())
        return value

    def _and(self) -> int:
        value = self._not()
        while self._peek() == "&&":
            self._next()
            value = min(value, self._not())
        return value

    def _not(self) -> int:
        if self._peek() == "!":
            self._next()
            return 2 - self._not()
        return self._compare()

    def _compare(self) -> int:
        if self._peek() == "(":
            self._next()
            value = self._or()
            if self._peek() == ")":
                self._next()
            return value
        left = self._atom()
        op = self._peek()
        if op in ("=", "!=", "<", ">", "<=", ">="):
            self._next()
            right = self._atom()
            return 2 if _compare(self._raw(left), op, self._raw(right)) else 0
        return self._tristate(left)

    def _atom(self) -> str:
        token = self._next()
        if re.match(r"^[A-Z_][A-Za-z0-9_]*$", token):
            self.symbols.append(token)
        return token

    def _raw(self, token: str) -> str:
        if token.startswith('"'):
            return token[1:-1]
        if token in TRISTATE or re.match(r"^-?[0-9]", token):
            return token
        value = self.values.get(token, "n")
        return value[1:-1] if value.startswith('"') else value

    def _tristate(self, token: str) -> int:
        if token.startswith("$("):
            return 2  # a preprocessor macro was true when the .config was made; assume so
        return TRISTATE.get(self._raw(token), 0)


def _compare(left: str, op: str, right: str) -> bool:
    try:
        a, b = int(left, 0), int(right, 0)
    except ValueError:
        a, b = left, right  # type: ignore[assignment]
    return {
        "=": a == b,
        "!=": a != b,
        "<": a < b,
        ">": a > b,
        "<=": a <= b,
        ">=": a >= b,
    }[op]


def evaluate(expr: str, values: dict[str, str]) -> tuple[int, list[str]]:
    """Evaluate a Kconfig expression; also return the symbols it mentions."""
    parser = _Expr(expr, values)
    try:
        result = parser.parse()
    except IndexError:
        result = 0
    return result, parser.symbols


def _describe(expr: str, values: dict[str, str]) -> str:
    _, symbols = evaluate(expr, values)
    shown = ", ".join(f"{s}={values.get(s, 'n')}" for s in dict.fromkeys(symbols))
    return f"{expr} ({shown})" if shown else expr


def _bound(token: str, values: dict[str, str]) -> str:
    return values.get(token, token) if re.match(r"^[A-Z_][A-Za-z0-9_]*$", token) else token


def explain(tree: KconfigTree, name: str, wanted: str, values: dict[str, str]) -> str:
    """A sentence on why CONFIG_name is not `wanted` in the final .config `values`."""
    definitions = tree.definitions.get(name)
    if not definitions:
        return (
            f"CONFIG_{name} is not an option of this kernel (no 'config {name}' in any Kconfig "
            f"file): check the spelling, or drop it if this kernel version removed it"
        )
    reasons: list[str] = []
    if wanted == "n":
        on = [s for s in tree.selected_by.get(name, []) if values.get(s.selector, "n") in ("y", "m")]
        on = [s for s in on if s.condition is None or evaluate(s.condition, values)[0] > 0]
        if on:
            reasons.append("selected by " + ", ".join(f"{s.selector} ({s.location})" for s in on))
        elif not any(d.has_prompt for d in definitions):
            reasons.append("it has no prompt, so its default applies")
        return "; ".join(reasons) or "Kconfig forced it on (default or choice)"
    for definition in definitions:
        unmet = [c for c in definition.conditions if evaluate(c, values)[0] == 0]
        if unmet:
            reasons.extend(f"depends on {_describe(c, values)}" for c in unmet)
            continue
        if wanted == "m" and any(evaluate(c, values)[0] == 1 for c in definition.conditions):
            reasons.append("a dependency is m, so it can be at most m")
        hidden = [c for c in definition.prompt_conditions if evaluate(c, values)[0] == 0]
        if hidden:
            reasons.extend(f"its prompt is only visible if {_describe(c, values)}" for c in hidden)
        if not definition.has_prompt and wanted in ("y", "m"):
            selectors = sorted({s.selector for s in tree.selected_by.get(name, [])})
            hint = f"; selected by: {', '.join(selectors[:8])}" if selectors else ""
            reasons.append(f"it has no prompt and cannot be set directly{hint}")
        if definition.choice and wanted == "y":
            chosen = [n for n in tree.choice_members.get(definition.choice, []) if n != name and values.get(n) == "y"]
            if chosen:
                reasons.append(
                    f"it is a member of the choice at {definition.choice} and CONFIG_{chosen[0]} was chosen "
                    f"(a later '=y' of another member, or that member's default, won)"
                )
        if definition.ranges and wanted not in TRISTATE:
            for bounds in definition.ranges:
                low, high = (_bound(b, values) for b in bounds.split()[:2])
                reasons.append(f"allowed range is {low}..{high} ({bounds})")
    if not reasons:
        return "Kconfig chose another value (a choice member, or a dependency evaluated to m)"
    return "; ".join(dict.fromkeys(reasons))
