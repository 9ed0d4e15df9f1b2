"""`ktstr` command line: `bazel run @ktstr//:ktstr -- <subcommand>`, the `ktstr` console
script (pyproject.toml), or `python -m ktstr.cli`.

  ktstr run  [--kernel bzImage] [--initramfs base.cpio] [--scheduler BIN ...] tests.py...
  ktstr shell [--kernel bzImage] [--initramfs base.cpio] [--scheduler BIN] [--topology T]
  ktstr list tests.py... | --catalogue
  ktstr show out/result.json
  ktstr compare A B   (baseline runs vs candidate runs; see ktstr/compare)
  ktstr verifier [--kernel bzImage] --shim libktstr_verifier.so --scheduler NAME=BIN...

--kernel and --initramfs default to the build's (ktstr.cli.bazel_run) under `bazel run`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from ktstr.cli.bazel_run import enter_working_directory, initramfs_or_default, kernel_or_default
from ktstr.cli.help import add_subcommand
from ktstr.errors import KtstrError
from ktstr.host import runner
from ktstr.host.discovery import DiscoveryError, list_all
from ktstr.host.engines import ENGINE_NAMES
from ktstr.host.jobs import Scenarios
from ktstr.wire.defaults import (DEFAULT_TOPOLOGY, MEMORY_PER_CPU_MIB, MIN_MEMORY_MIB, SELFTESTS, TEST, JobDefaults,
                                 timeout_help)
from ktstr.host.request import RunRequest
from ktstr.wire.results import RunReport


def _run(args: argparse.Namespace) -> int:
    from ktstr.cli.session import claim_out_dir, execute

    try:
        _vm_inputs(args)
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
            _vm_inputs(args)
            vm_shape_args(args)
            req = RunRequest.from_cli(args, work / "out", work)
            if args.exec is not None:
                return run_one_liner(req, args.exec)
            return runner.shell(req, os.environ.get("TERM", "vt100"))
        except (KtstrError, OSError) as exc:  # OSError: the machine's (a file, QEMU), not a bug
            print(f"ktstr shell: {exc}", file=sys.stderr)
            return 2


def _vm_inputs(args: argparse.Namespace) -> None:
    """--kernel (every VM subcommand) and the base --initramfs (run, shell) from the build when
    not given; selftests' layers are extras, so none is added there."""
    args.kernel = kernel_or_default(args.kernel, args.command)
    if args.command in ("run", "shell"):
        args.initramfs = initramfs_or_default(args.initramfs, args.command)


def _add_scheduler_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", help="scheduler binary (omit for EEVDF)")
    p.add_argument("--scheduler-name")
    p.add_argument("--ops-name", help="name shown in /sys/kernel/sched_ext/root/ops")
    p.add_argument("--sched-arg", action="append", default=[])
    p.add_argument("--runtime-file", action="append", default=[])


def _add_vm_args(p: argparse.ArgumentParser, topology_help: str) -> None:
    """The VM options every subcommand that boots one takes, with the one set of defaults
    (ktstr.host.request)."""
    p.add_argument("--kernel", help="bzImage (default under `bazel run @ktstr//:ktstr`: @ktstr//kernels:default's)")
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


BASE_HELP = "base initramfs cpio (repeat for more layers, in order; default under `bazel run`: @ktstr//initramfs:base)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ktstr", description="sched_ext test harness: boot VMs with a scheduler attached, run tests, "
                                  "compare runs. `ktstr <subcommand> --help` for each.",
        epilog="examples:\n  bazel run @ktstr//:ktstr -- list --catalogue\n  ktstr shell --cpus 4 --exec 'nproc'",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    r = add_subcommand(sub, "run", "run @ktstr_test functions in a VM", [
        "ktstr run sched/scenarios.py",
        "ktstr run --scheduler bazel-bin/schedulers/scx_ktstr/scx_ktstr --filter cgroup sched/scenarios.py",
        "bazel run @ktstr//:ktstr -- run --topology tiny-2llc --out /tmp/r my_tests.py",
    ], "Boot the test functions of SOURCES in VMs (one per topology) and report a verdict per test; "
       "logs and result.json go to --out (default ktstr-out/run-<time>-<random>).")
    r.add_argument("sources", nargs="+", help="test .py files")
    _add_vm_args(r, "e.g. 1n2l4c1t or a preset such as tiny-2llc (default: each test's own, else 1n1l2c1t)")
    r.add_argument("--initramfs", action="append", help=BASE_HELP)
    r.add_argument("--test", help="run only this test function")
    r.add_argument("--filter", help="comma list of test names/substrings")
    _add_scheduler_args(r)
    r.add_argument("--duration", type=float)
    r.add_argument("--expect-fail", help="negative test: pass iff FAIL with this text in the evidence")
    r.add_argument("--may-fail", action="append",
                   help="known intermittent failure (repeatable): a FAIL with this text counts as PASS")
    _add_run_outputs(r, TEST)
    r.set_defaults(func=_run)

    st = add_subcommand(sub, "selftests", "run the upstream sched_ext selftests runner in a VM", [
        "ktstr selftests --runner bazel-bin/schedulers/sched_ext_selftests_runner/runner "
        "--runner-arg=-t --runner-arg=create_dsq",
    ])
    _add_vm_args(st, "guest topology (default 1n1l2c1t)")
    st.add_argument("--runner", required=True, help="the selftests 'runner' binary")
    st.add_argument("--runner-arg", action="append", default=[], help="e.g. -t create_dsq")
    st.add_argument("--initramfs", action="append", default=[], help="extra layers (none needed)")
    _add_run_outputs(st, SELFTESTS)
    st.set_defaults(func=_run)

    sh = add_subcommand(sub, "shell", "boot a test VM (topology, scheduler) with a shell on this terminal", [
        "bazel run @ktstr//:ktstr -- shell --cpus 4",
        "ktstr shell --kernel bzImage --initramfs base.cpio --topology 2n2l2c1t --exec 'nproc; cat /proc/cmdline'",
    ], "A shell in the VM a test would get (Ctrl-D powers it off; Ctrl-A X quits QEMU), or with --exec "
       "one command, its output here and its exit status ours.")
    _add_vm_args(sh, "e.g. 2n4l2c1t or a preset (default 1n1l2c1t)")
    sh.add_argument("--initramfs", action="append", help=BASE_HELP)
    _add_scheduler_args(sh)
    sh.add_argument("--exec", metavar="CMD", help="run CMD with /bin/sh -c in the VM instead of a shell: its "
                                                  "output on stdout, its exit status ours (ktstr.cli.one_liner)")
    sh.add_argument("--cpus", type=int, help="N CPUs in one LLC (shorthand for --topology 1n1lNc1t)")
    sh.add_argument("--memory", help="guest memory with a unit, e.g. 2G or 512M (as vng; or --memory-mib)")
    sh.set_defaults(func=_shell)

    ls = add_subcommand(sub, "list", "list @ktstr_test functions, or the scenario catalogue", [
        "ktstr list sched/scenarios.py",
        "bazel run @ktstr//:ktstr -- list --catalogue --category cgroup",
    ])
    ls.add_argument("sources", nargs="*", help="test .py files")
    ls.add_argument("--catalogue", action="store_true", help="list the catalogue scenarios")
    ls.add_argument("--category", default="", help="with --catalogue: only this category")
    ls.set_defaults(func=_list)

    s = add_subcommand(sub, "show", "print the report of a result.json", [
        "ktstr show ktstr-out",
        "ktstr show ktstr-out/run-20260101-120000-ab12cd/result.json",
    ], "Print a run's report again: the verdicts, failed claims, console tail and monitor summary.")
    s.add_argument("result", help="a result.json, a run directory, or ktstr-out (its latest run)")
    s.set_defaults(func=_show)

    from ktstr.cli.compare import add_parser as add_compare
    from ktstr.cli.verifier import add_parser as add_verifier

    add_compare(sub)
    add_verifier(sub, _add_vm_args)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        enter_working_directory()  # `bazel run`: relative paths are the user's, not the runfiles'
        status: int = args.func(args)
    except KtstrError as exc:  # ours, with its message for the user: never a traceback
        print(f"ktstr {args.command}: {exc}", file=sys.stderr)
        return 2
    return status
