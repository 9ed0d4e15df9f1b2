"""What a ktstr_verifier_test target runs (rules/private/verifier.bzl): one verifier cell,
through the runner like any ktstr_test (result.json, JUnit, report.txt, console), plus
verifier.json (every program's figures) and the figures table appended to the report.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

from ktstr.host.expectations import expect_fail
from ktstr.host.request import DEFAULT_VM_TIMEOUT_S, RunRequest
from ktstr.verifier.cell import CellScheduler, VerifierCells


def request_from_config(cfg: dict[str, Any], env: dict[str, str]) -> RunRequest:
    tmp = Path(env.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="ktstr-verifier-"))
    out = Path(env.get("TEST_UNDECLARED_OUTPUTS_DIR") or (tmp / "outputs"))
    cells = VerifierCells(
        schedulers=tuple(CellScheduler(name=s["name"], binary=Path(s["binary"]), args=tuple(s.get("args", ())),
                                       runtime_files=tuple(Path(p) for p in s.get("runtime_files", ())),
                                       budget=s.get("budget", "")) for s in cfg["schedulers"]),
        shim=Path(cfg["shim"]))
    return RunRequest(
        suite=cfg["suite"],
        kernel=Path(cfg["kernel"]),
        initrds=[],
        payload=cells,
        topology=cfg.get("topology", ""),
        memory_mib=cfg.get("memory_mib") or None,
        timeout_s=float(cfg.get("vm_timeout_s") or DEFAULT_VM_TIMEOUT_S),
        cmdline_extra=cfg.get("cmdline", ""),
        engine=cfg.get("engine") or None,
        vmm_library=Path(cfg["vmm_library"]).resolve() if cfg.get("vmm_library") else None,
        expectations=tuple(expect_fail(cfg.get("expect_fail", ""))),
        out_dir=out,
        work_dir=tmp / "ktstr-work",
    )


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
    cfg = json.loads(Path(args.config).read_text())
    req = request_from_config(cfg, dict(os.environ))
    xml = os.environ.get("XML_OUTPUT_FILE")
    rc = execute(req, Path(xml) if xml else None)
    if (req.out_dir / RESULT_NAME).exists():
        print("\n" + present(req.out_dir))
    return rc
