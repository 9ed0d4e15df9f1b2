"""`ktstr` command line.

  ktstr run  --kernel bzImage --initramfs base.cpio [--scheduler BIN ...] tests.py...
  ktstr shell --kernel bzImage --initramfs base.cpio [--scheduler BIN] [--topology T]
  ktstr list tests.py...
  ktstr show out/result.json
  ktstr compare A B   (baseline runs vs candidate runs; see ktstr/compare)
  ktstr verifier --kernel bzImage --shim libktstr_verifier.so --scheduler NAME=BIN...
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from ktstr.errors import KtstrError
from ktstr.host import runner
from ktstr.host.discovery import DiscoveryError, list_all
from ktstr.host.engines import ENGINE_NAMES
from ktstr.host.payloads import Scenarios
from ktstr.wire.defaults import (DEFAULT_TOPOLOGY, MEMORY_PER_CPU_MIB, MIN_MEMORY_MIB, SELFTESTS, TEST, JobDefaults,
                                 timeout_help)
from ktstr.host.request import RunRequest
from ktstr.wire.results import RunReport


def _run(args: argparse.Namespace) -> int:
    from ktstr.cli.session import claim_out_dir, execute

    try:
        out = claim_out_dir(args.out)
        req = RunRequest.from_cli(args, out, out / "work")
    except KtstrError as exc:  # a DiscoveryError, RequestError, ...
        print(f"ktstr: {exc}", file=sys.stderr)
        return 2
    if isinstance(req.payload, Scenarios) and not req.payload.tests:
        print("ktstr: no @ktstr_test functions selected in " + ", ".join(args.sources), file=sys.stderr)
        return 2
    return execute(req, Path(args.junit) if args.junit else None)


def _shell(args: argparse.Namespace) -> int:
    from ktstr.cli.one_liner import run_one_liner, vm_shape_args

    # Nothing of a shell session is kept: its scratch goes with it.
    with tempfile.TemporaryDirectory(prefix="ktstr-shell-") as tmp:
        work = Path(tmp)
        try:
            vm_shape_args(args)
            req = RunRequest.from_cli(args, work / "out", work)
            if args.exec is not None:
                return run_one_liner(req, args.exec)
            return runner.shell(req, os.environ.get("TERM", "vt100"))
        except (KtstrError, OSError) as exc:  # OSError: the machine's (a file, QEMU), not a bug
            print(f"ktstr shell: {exc}", file=sys.stderr)
            return 2


def _add_scheduler_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", help="scheduler binary (omit for EEVDF)")
    p.add_argument("--scheduler-name")
    p.add_argument("--ops-name", help="name shown in /sys/kernel/sched_ext/root/ops")
    p.add_argument("--sched-arg", action="append", default=[])
    p.add_argument("--runtime-file", action="append", default=[])


def _add_vm_args(p: argparse.ArgumentParser, topology_help: str) -> None:
    """The VM options every subcommand that boots one takes, with the one set of defaults
    (ktstr.host.request)."""
    p.add_argument("--kernel", required=True, help="bzImage")
    p.add_argument("--topology", help=topology_help)
    p.add_argument("--memory-mib", type=int, help=f"guest memory (default: max({MIN_MEMORY_MIB}, "
                                                  f"{MEMORY_PER_CPU_MIB} per vCPU); selftests {SELFTESTS.memory_mib})")
    p.add_argument("--cmdline", default="", help="extra kernel command line")
    p.add_argument("--engine", choices=ENGINE_NAMES, help="default: $KTSTR_ENGINE or auto")
    p.add_argument("--vmm-library", help="libktstr_vmm.so for the vmm engine (default: bazel-bin/vmm)")
    p.add_argument("--kernel-layout", help="the kernel's layout.json (from its ktstr_kernel target): "
                                           "turns the host monitor on (docs/monitor.md)")
    p.add_argument("--monitor", action="append", default=[], metavar="NAME=VALUE",
                   help="host monitor option, e.g. fail_on_stall=false (repeatable)")


def _list(args: argparse.Namespace) -> int:
    if args.catalogue:
        from ktstr.cli.catalogue import catalogue_lines

        print("\n".join(catalogue_lines(args.category)))
        return 0
    if not args.sources:
        print("ktstr list: give test sources, or --catalogue", file=sys.stderr)
        return 2
    try:
        tests = list_all([Path(s) for s in args.sources])
    except DiscoveryError as exc:
        print(f"ktstr: {exc}", file=sys.stderr)
        return 2
    for t in tests:
        topo = t.topology_string() or DEFAULT_TOPOLOGY
        print(f"{t.source}:{t.name}  topology={topo}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from ktstr.cli.session import find_result
    from ktstr.host.report import console_tail, terminal_report
    from ktstr.wire.results import ResultFileError, read_result

    path = find_result(Path(args.result))
    try:
        report = read_result(path)
    except ResultFileError as exc:
        print(f"ktstr: {exc}", file=sys.stderr)
        return 2
    print(terminal_report(report.suite, report.outcomes, report.engine, report.wall_s,
                          console_tail(report, path.parent), path.parent))
    _show_monitor(report, path.parent)
    return 0 if report.ok else 1


def _show_monitor(report: RunReport, where: Path) -> None:
    """The host monitor's summary per boot, and where its picture and samples are."""
    for index, boot in enumerate(report.boots):
        if not boot.monitor:
            continue
        files = [f for f in (f"timeline{boot.suffix}.png", f"monitor{boot.suffix}.json") if (where / f).exists()]
        print(f"boot {index} ({boot.topology}): {boot.monitor}")
        if files:
            print(f"    per-CPU timeline and samples: {', '.join(str(where / f) for f in files)}")


def _add_run_outputs(p: argparse.ArgumentParser, job: JobDefaults) -> None:
    p.add_argument("--timeout", type=float, help=timeout_help(job))
    p.add_argument("--out", help="directory for logs and result.json (default: a new "
                                 "ktstr-out/run-<time>-<random>, with ktstr-out/latest pointing at it)")
    p.add_argument("--junit", help="also write JUnit XML here")
    p.add_argument("--suite")
    p.add_argument("--console", action="store_true", help="stream the guest console to stderr")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ktstr", description="sched_ext test harness")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run @ktstr_test functions in a VM")
    r.add_argument("sources", nargs="+", help="test .py files")
    _add_vm_args(r, "e.g. 1n2l4c1t or a preset such as tiny-2llc (default: each test's own, else 1n1l2c1t)")
    r.add_argument("--initramfs", action="append", required=True,
                   help="base initramfs cpio (repeat for more layers, in order)")
    r.add_argument("--test", help="run only this test function")
    r.add_argument("--filter", help="comma list of test names/substrings")
    _add_scheduler_args(r)
    r.add_argument("--duration", type=float)
    r.add_argument("--expect-fail", help="negative test: pass iff FAIL with this text in the evidence")
    r.add_argument("--may-fail", action="append",
                   help="known intermittent failure (repeatable): a FAIL with this text counts as PASS")
    _add_run_outputs(r, TEST)
    r.set_defaults(func=_run)

    st = sub.add_parser("selftests", help="run the upstream sched_ext selftests runner in a VM")
    _add_vm_args(st, "guest topology (default 1n1l2c1t)")
    st.add_argument("--runner", required=True, help="the selftests 'runner' binary")
    st.add_argument("--runner-arg", action="append", default=[], help="e.g. -t create_dsq")
    st.add_argument("--initramfs", action="append", default=[], help="extra layers (none needed)")
    _add_run_outputs(st, SELFTESTS)
    st.set_defaults(func=_run)

    sh = sub.add_parser("shell", help="boot a test VM (topology, scheduler) with a shell on this terminal")
    _add_vm_args(sh, "e.g. 2n4l2c1t or a preset (default 1n1l2c1t)")
    sh.add_argument("--initramfs", action="append", required=True, help="base initramfs cpio (repeatable)")
    _add_scheduler_args(sh)
    sh.add_argument("--exec", metavar="CMD", help="run CMD with /bin/sh -c in the VM instead of a shell: its "
                                                  "output on stdout, its exit status ours (ktstr.cli.one_liner)")
    sh.add_argument("--cpus", type=int, help="N CPUs in one LLC (shorthand for --topology 1n1lNc1t)")
    sh.add_argument("--memory", help="guest memory with a unit, e.g. 2G or 512M (as vng; or --memory-mib)")
    sh.set_defaults(func=_shell)

    ls = sub.add_parser("list", help="list @ktstr_test functions, or the scenario catalogue")
    ls.add_argument("sources", nargs="*")
    ls.add_argument("--catalogue", action="store_true", help="list the 81 catalogue scenarios")
    ls.add_argument("--category", default="", help="with --catalogue: only this category")
    ls.set_defaults(func=_list)

    s = sub.add_parser("show", help="print the report of a result.json")
    s.add_argument("result")
    s.set_defaults(func=_show)

    from ktstr.cli.compare import add_parser as add_compare
    from ktstr.cli.verifier import add_parser as add_verifier

    add_compare(sub)
    add_verifier(sub, _add_vm_args)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except KtstrError as exc:  # ours, with its message for the user: never a traceback
        print(f"ktstr {args.command}: {exc}", file=sys.stderr)
        return 2
    return status
