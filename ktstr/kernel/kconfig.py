"""Kconfig fragments and .config files: parse, merge (last wins), render, hash.

A fragment line is either `CONFIG_NAME=value` or `# CONFIG_NAME is not set` (which means
`n`). Other comments and blank lines are ignored. Anything else is an error that names the
file and line, so a typo never silently drops an option.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ktstr.errors import KtstrError

_SET_RE = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_UNSET_RE = re.compile(r"^#\s*CONFIG_([A-Za-z0-9_]+) is not set\s*$")


class KconfigError(KtstrError, ValueError):
    """A fragment or .config that cannot be understood (names the file and line)."""


@dataclass(frozen=True)
class Setting:
    """One requested option value and where it came from."""

    name: str  # without the CONFIG_ prefix
    value: str  # "y", "m", "n", a number, or a quoted string exactly as written
    origin: str  # "path:line" for error messages

    def line(self) -> str:
        if self.value == "n":
            return f"# CONFIG_{self.name} is not set"
        return f"CONFIG_{self.name}={self.value}"


@dataclass
class Fragment:
    """An ordered set of settings; a later setting of the same option replaces the earlier."""

    settings: dict[str, Setting] = field(default_factory=dict)

    def set(self, setting: Setting) -> None:
        self.settings.pop(setting.name, None)  # re-insert so order follows the last write
        self.settings[setting.name] = setting

    def lines(self) -> list[str]:
        return [s.line() for s in self.settings.values()]

    def render(self) -> str:
        return "".join(line + "\n" for line in self.lines())

    def sha256(self) -> str:
        """Hash of the canonical rendering (comments and layout do not matter)."""
        return hashlib.sha256(self.render().encode()).hexdigest()


def parse_line(line: str, origin: str) -> Setting | None:
    """Parse one fragment line; None for blank lines and ordinary comments."""
    text = line.strip()
    if not text:
        return None
    m = _UNSET_RE.match(text)
    if m:
        return Setting(m.group(1), "n", origin)
    if text.startswith("#"):
        return None
    m = _SET_RE.match(text)
    if not m:
        raise KconfigError(
            f"{origin}: cannot parse {text!r}: expected 'CONFIG_NAME=value' or "
            f"'# CONFIG_NAME is not set'"
        )
    name, value = m.group(1), m.group(2).strip()
    if value == "":
        raise KconfigError(f"{origin}: CONFIG_{name} has an empty value; write y, m, n, a number or a \"string\"")
    if value.startswith('"') and (len(value) < 2 or not value.endswith('"')):
        raise KconfigError(f"{origin}: CONFIG_{name} has an unterminated string value {value!r}")
    return Setting(name, value, origin)


def parse_fragment_text(text: str, source: str) -> Fragment:
    fragment = Fragment()
    for number, line in enumerate(text.splitlines(), start=1):
        setting = parse_line(line, f"{source}:{number}")
        if setting is not None:
            fragment.set(setting)
    return fragment


def parse_fragment(path: str | Path) -> Fragment:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise KconfigError(f"cannot read kconfig fragment {path}: {err.strerror}") from err
    return parse_fragment_text(text, str(path))


def merge(fragments: Iterable[Fragment]) -> Fragment:
    """Merge fragments in order; the last setting of an option wins."""
    merged = Fragment()
    for fragment in fragments:
        for setting in fragment.settings.values():
            merged.set(setting)
    return merged


def parse_config_values(text: str) -> dict[str, str]:
    """Values of a .config: name -> value ('n' for '# ... is not set').

    Options absent from the .config are absent from the dict: Kconfig writes every visible
    option, so an absent option is one whose dependencies are unmet (its value is n).
    """
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        setting = parse_line(line, f".config:{number}")
        if setting is not None:
            values[setting.name] = setting.value
    return values


def apply_to_config(config_text: str, fragment: Fragment) -> str:
    """Return config_text without the fragment's options, then the fragment's lines appended.

    Appending (rather than editing in place) matters for choices: Kconfig honours the last
    `=y` member of a choice it reads, so a fragment's choice must come after the base's.
    Running `make olddefconfig` afterwards resolves dependencies; `verify` checks what stuck.
    """
    out: list[str] = []
    for number, line in enumerate(config_text.splitlines(), start=1):
        setting = parse_line(line, f".config:{number}")
        if setting is None or setting.name not in fragment.settings:
            out.append(line)
    out.extend(fragment.lines())
    return "".join(line + "\n" for line in out)


def normalize_value(value: str) -> str:
    """Compare hex numbers case-insensitively; everything else verbatim."""
    if value.lower().startswith("0x"):
        return "0x" + value[2:].lower()
    return value

