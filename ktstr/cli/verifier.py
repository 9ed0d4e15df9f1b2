"""`ktstr verifier`: a verifier cell outside Bazel.

  ktstr verifier [--kernel bzImage] --shim bazel-bin/schedulers/libktstr_verifier.so \\
      --scheduler scx_simple=path/to/scx_simple --budget scx_simple:insns=5000 [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from ktstr.cli.help import add_subcommand
from ktstr.errors import KtstrError
from ktstr.wire.defaults import VERIFIER, timeout_help


class VerifierArgsError(KtstrError, ValueError):
    """`ktstr verifier` options that do not fit together (NAME=VALUE forms, budgets without a scheduler)."""


def add_parser(sub: "argparse._SubParsersAction", add_vm_args: Callable[[argparse.ArgumentParser, str], None]) -> None:
    v = add_subcommand(sub, "verifier", "load schedulers' BPF programs in a VM and record the verifier's figures", [
        "ktstr verifier --shim bazel-bin/schedulers/libktstr_verifier.so "
        "--scheduler scx_simple=bazel-bin/schedulers/sched_ext/scx_simple --budget scx_simple:insns=5000",
    ], "Boot a VM, load each scheduler's BPF programs under the LD_PRELOAD recorder and report the "
       "verifier's instruction counts against the budgets.")
    add_vm_args(v, "guest topology (default 1n1l2c1t)")
    v.add_argument("--shim", required=True, help="the LD_PRELOAD recorder: bazel-bin/schedulers/libktstr_verifier.so")
    v.add_argument("--scheduler", action="append", required=True, metavar="NAME=BINARY",
                   help="a scheduler's loader (repeatable)")
    v.add_argument("--budget", action="append", default=[], metavar="NAME:KEY=N,...",
                   help="a scheduler's budget, e.g. scx_qmap:insns=60000,total_insns=200000")
    v.add_argument("--timeout", type=float, help=timeout_help(VERIFIER))
    v.add_argument("--out", help="directory for result.json, verifier.json, report (default: a new "
                                 "ktstr-out/run-<time>-<random>)")
    v.set_defaults(func=run)


def _pairs(values: list[str], sep: str, what: str) -> dict[str, str]:
    out = {}
    for v in values:
        name, ok, rest = v.partition(sep)
        if not ok or not name or not rest:
            raise VerifierArgsError(f"{what} {v!r}: expected NAME{sep}VALUE")
        out[name] = rest
    return out


def run(args: argparse.Namespace) -> int:
    from ktstr.cli.bazel_run import kernel_or_default
    from ktstr.cli.session import claim_out_dir, execute
    from ktstr.host.request import RunRequest
    from ktstr.cli.bazel_verifier import present
    from ktstr.verifier.cell import CellScheduler, VerifierCells
    from ktstr.wire.results import RESULT_NAME

    try:
        binaries = _pairs(args.scheduler, "=", "--scheduler")
        budgets = _pairs(args.budget, ":", "--budget")
        unknown = sorted(set(budgets) - set(binaries))
        if unknown:
            raise VerifierArgsError(f"--budget for {', '.join(unknown)}, which no --scheduler names")
        args.kernel = kernel_or_default(args.kernel, "verifier")
        out = claim_out_dir(args.out)
    except KtstrError as exc:
        print(f"ktstr verifier: {exc}", file=sys.stderr)
        return 2
    cells = VerifierCells(tuple(CellScheduler(n, Path(b), budget=budgets.get(n, "")) for n, b in binaries.items()),
                          Path(args.shim))
    req = RunRequest.from_cli(args, out, out / "work", cells)
    rc = execute(req, None)
    if (out / RESULT_NAME).exists():
        print("\n" + present(out))
    return rc
