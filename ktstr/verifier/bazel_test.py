"""What a ktstr_verifier_test target runs (rules/private/verifier.bzl): one verifier cell.

Writes result.json (one test case per scheduler, the figures in its stats), verifier.json
(every program's figures), report.txt (verdicts and the figures table) and the console to
$TEST_UNDECLARED_OUTPUTS_DIR, JUnit to $XML_OUTPUT_FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

from ktstr.verifier.cell import CellRequest, CellScheduler


def request_from_config(cfg: dict[str, Any], env: dict[str, str]) -> CellRequest:
    tmp = Path(env.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="ktstr-verifier-"))
    out = Path(env.get("TEST_UNDECLARED_OUTPUTS_DIR") or (tmp / "outputs"))
    return CellRequest(
        suite=cfg["suite"],
        kernel=Path(cfg["kernel"]),
        schedulers=[CellScheduler(name=s["name"], binary=Path(s["binary"]), args=tuple(s.get("args", ())),
                                  runtime_files=tuple(Path(p) for p in s.get("runtime_files", ())),
                                  budget=s.get("budget", "")) for s in cfg["schedulers"]],
        shim=Path(cfg["shim"]),
        topology=cfg.get("topology") or "1n1l2c1t",
        memory_mib=int(cfg.get("memory_mib", 1024)),
        timeout_s=float(cfg.get("timeout", 300)),
        engine=cfg.get("engine") or None,
        cmdline_extra=cfg.get("cmdline", ""),
        out_dir=out,
        work_dir=tmp / "ktstr-work",
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    from ktstr.host.junit import write_junit
    from ktstr.host.report import terminal_report
    from ktstr.host.runner import write_sidecar
    from ktstr.verifier.budget import BudgetError
    from ktstr.verifier.cell import run

    p = argparse.ArgumentParser(prog="ktstr_verifier_test")
    p.add_argument("--config", required=True)
    args = p.parse_args(argv)
    cfg = json.loads(Path(args.config).read_text())
    if cfg.get("vmm_library"):
        os.environ.setdefault("KTSTR_VMM_LIB", str(Path(cfg["vmm_library"]).resolve()))
    req = request_from_config(cfg, dict(os.environ))
    try:
        result = run(req)
    except (BudgetError, ValueError, OSError) as exc:
        print(f"ktstr_verifier_test {req.suite}: {exc}", file=sys.stderr)
        return 2
    report = result.report
    write_sidecar(report, req.out_dir / "result.json")
    (req.out_dir / "verifier.json").write_text(json.dumps(result.figures, indent=1, sort_keys=True) + "\n")
    xml = os.environ.get("XML_OUTPUT_FILE")
    if xml:
        write_junit(Path(xml), req.suite, report.outcomes, report.console_tail())
    text = terminal_report(req.suite, report.outcomes, report.engine, report.wall_s,
                           report.console_tail(), req.out_dir) + "\n\n" + result.table
    (req.out_dir / "report.txt").write_text(text + "\n")
    print(text, file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1
