"""Verify that every line of every fragment holds in the final .config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ktstr.kernel.kconfig import Fragment, merge, normalize_value, parse_config_values
from ktstr.kernel.kconfig_deps import KconfigTree, explain, read_kconfig_tree


@dataclass(frozen=True)
class Mismatch:
    """A requested setting that did not stick."""

    name: str
    wanted: str
    actual: str  # "n" when the .config does not mention the option
    origin: str  # fragment path:line
    reason: str  # why, when the Kconfig tree can tell; else ""

    def message(self) -> str:
        text = f"{self.origin}: CONFIG_{self.name}={self.wanted} did not stick (final value: {self.actual})"
        return f"{text}: {self.reason}" if self.reason else text


def find_mismatches(fragments: Iterable[Fragment], config_values: dict[str, str]) -> list[tuple]:
    """(setting, actual) for each setting of the merged fragments the final values lack.

    The fragments are merged first (last wins), so a later fragment may deliberately
    override an earlier one; each surviving line must hold.
    """
    missing: list[tuple] = []
    for setting in merge(fragments).settings.values():
        actual = config_values.get(setting.name, "n")
        if normalize_value(actual) != normalize_value(setting.value):
            missing.append((setting, actual))
    return missing


def verify(
    fragments: Iterable[Fragment],
    config_text: str,
    srctree: str | Path | None = None,
    tree: KconfigTree | None = None,
) -> list[Mismatch]:
    """Every mismatch between the fragments and the final .config, with reasons.

    `srctree` (the kernel source) lets the reasons name unmet dependencies; the Kconfig tree
    is read only when something failed, since reading it takes about a second.
    """
    values = parse_config_values(config_text)
    missing = find_mismatches(fragments, values)
    if not missing:
        return []
    if tree is None and srctree is not None:
        tree = read_kconfig_tree(srctree)
    result = []
    for setting, actual in missing:
        reason = explain(tree, setting.name, setting.value, values) if tree is not None else ""
        result.append(Mismatch(setting.name, setting.value, actual, setting.origin, reason))
    return result


def format_report(mismatches: list[Mismatch]) -> str:
    lines = [f"kernel config verification failed: {len(mismatches)} option(s) did not stick"]
    lines += ["  " + m.message() for m in mismatches]
    lines.append("Fix: satisfy the named dependency in a fragment, or remove the option.")
    return "\n".join(lines)
