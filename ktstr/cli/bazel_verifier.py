"""What a ktstr_verifier_test target runs (rules/private/verifier.bzl): one verifier cell,
through the runner like any ktstr_test (result.json, JUnit, report.txt, console), plus
verifier.json (every program's figures) and the figures table appended to the report.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, Optional, Sequence

from ktstr.host.request import RunRequest
from ktstr.verifier.cell import VerifierCells
from ktstr.wire.target_config import read_target_config


def request_from_config(cfg: dict[str, Any], env: dict[str, str]) -> RunRequest:
    """The target's cells, and everything else through the tests' one request path."""
    return RunRequest.from_bazel_config(cfg, env, VerifierCells.from_config(cfg))


def present(out_dir: Path) -> str:
    """verifier.json and the figures table, from the result.json the run wrote."""
    from ktstr.verifier.cell import figures_json, figures_table
    from ktstr.wire.results import RESULT_NAME, read_result

    outcomes = read_result(out_dir / RESULT_NAME).outcomes
    (out_dir / "verifier.json").write_text(json.dumps(figures_json(outcomes), indent=1, sort_keys=True) + "\n")
    table = figures_table(outcomes)
    with open(out_dir / "report.txt", "a") as f:
        f.write("\n" + table + "\n")
    return table


def main(argv: Optional[Sequence[str]] = None) -> int:
    from ktstr.cli.session import execute
    from ktstr.wire.results import RESULT_NAME

    p = argparse.ArgumentParser(prog="ktstr_verifier_test")
    p.add_argument("--config", required=True)
    args = p.parse_args(argv)
    cfg = read_target_config(args.config)
    req = request_from_config(cfg, dict(os.environ))
    xml = os.environ.get("XML_OUTPUT_FILE")
    rc = execute(req, Path(xml) if xml else None)
    if (req.out_dir / RESULT_NAME).exists():
        print("\n" + present(req.out_dir))
    return rc
