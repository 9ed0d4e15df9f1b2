"""The JSON config a ktstr Bazel target writes for its runner (rules/private/*_config_rule.bzl):
read here and nowhere else (tools/lint/test_readers.py).

Paths in it are relative to the runfiles root; an option the target left unset is 0 or ""
(its job kind's default, ktstr/wire/defaults.py, fills it in ktstr.host.request). Known
failures arrive as JSON objects encoded in strings (Starlark's json.encode per entry); this
reader decodes them, so its callers see plain dicts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ktstr.errors import KtstrError


class TargetConfigError(KtstrError, ValueError):
    """The config a ktstr target wrote cannot be read."""


def read_target_config(path: str | Path) -> dict[str, Any]:
    try:
        cfg = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise TargetConfigError(f"cannot read the target's config {path}: {exc}") from None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("suite"), str):
        raise TargetConfigError(f"{path} is not a ktstr target config (a JSON object with 'suite'): "
                                f"rebuild the target")
    try:
        cfg["expectations"] = [json.loads(e) if isinstance(e, str) else e for e in cfg.get("expectations", ())]
    except ValueError as exc:
        raise TargetConfigError(f"{path}: an expectations entry is not JSON ({exc}): rebuild the target") from None
    return cfg
