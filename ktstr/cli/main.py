"""`ktstr` command line.

  ktstr run  --kernel bzImage --initramfs base.cpio [--scheduler BIN ...] tests.py...
  ktstr shell --kernel bzImage --initramfs base.cpio [--scheduler BIN] [--topology T]
  ktstr list tests.py...
  ktstr show out/result.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

from ktstr.host import runner
from ktstr.host.engines import ENGINE_NAMES
from ktstr.host.test_listing import TestListingError, list_all, select


def _run(args: argparse.Namespace) -> int:
    from ktstr.cli.session import execute

    try:
        tests = select(list_all([Path(s) for s in args.sources]), args.test or "", args.filter or "")
    except TestListingError as exc:
        print(f"ktstr: {exc}", file=sys.stderr)
        return 2
    if not tests:
        print("ktstr: no @ktstr_test functions selected in " + ", ".join(args.sources), file=sys.stderr)
        return 2
    sched = _scheduler(args)
    out = Path(args.out)
    req = runner.RunRequest(
        suite=args.suite or Path(args.sources[0]).stem,
        kernel=Path(args.kernel),
        initrds=[Path(p) for p in args.initramfs],
        tests=tests,
        scheduler=sched,
        topology=args.topology or "",
        memory_mib=args.memory_mib,
        duration_s=args.duration,
        timeout_s=args.timeout,
        cmdline_extra=args.cmdline,
        engine=args.engine,
        expect_fail=args.expect_fail or "",
        may_fail=tuple(args.may_fail or ()),
        out_dir=out,
        work_dir=out / "work",
        stream_console=args.console,
    )
    return execute(req, Path(args.junit) if args.junit else None)


def _scheduler(args: argparse.Namespace) -> runner.SchedulerSpec:
    if not args.scheduler:
        return runner.EEVDF
    binary = Path(args.scheduler)
    return runner.SchedulerSpec(name=args.scheduler_name or binary.name, binary=binary,
                                args=tuple(args.sched_arg), ops_name=args.ops_name or "",
                                runtime_files=tuple(Path(p) for p in args.runtime_file))


def _shell(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from ktstr.host.engines import EngineSelectionError

    work = Path(tempfile.mkdtemp(prefix="ktstr-shell-"))
    req = runner.RunRequest(
        suite="shell", kernel=Path(args.kernel), initrds=[Path(p) for p in args.initramfs], tests=[],
        scheduler=_scheduler(args), topology=args.topology or "", memory_mib=args.memory_mib,
        cmdline_extra=args.cmdline, engine=args.engine, out_dir=work / "out", work_dir=work)
    try:
        return runner.shell(req, os.environ.get("TERM", "vt100"))
    except (EngineSelectionError, FileNotFoundError, ValueError) as exc:
        print(f"ktstr shell: {exc}", file=sys.stderr)
        return 2


def _add_scheduler_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", help="scheduler binary (omit for EEVDF)")
    p.add_argument("--scheduler-name")
    p.add_argument("--ops-name", help="name shown in /sys/kernel/sched_ext/root/ops")
    p.add_argument("--sched-arg", action="append", default=[])
    p.add_argument("--runtime-file", action="append", default=[])


def _selftests(args: argparse.Namespace) -> int:
    from ktstr.cli.session import execute

    out = Path(args.out)
    req = runner.RunRequest(
        suite=args.suite or "sched_ext_selftests",
        kernel=Path(args.kernel),
        initrds=[Path(p) for p in args.initramfs],
        tests=[],
        topology=args.topology or "",
        memory_mib=args.memory_mib,
        timeout_s=args.timeout,
        cmdline_extra=args.cmdline,
        engine=args.engine,
        selftests_runner=Path(args.runner),
        selftests_args=tuple(args.runner_arg),
        out_dir=out,
        work_dir=out / "work",
        stream_console=args.console,
    )
    return execute(req, Path(args.junit) if args.junit else None)


def _list(args: argparse.Namespace) -> int:
    try:
        tests = list_all([Path(s) for s in args.sources])
    except TestListingError as exc:
        print(f"ktstr: {exc}", file=sys.stderr)
        return 2
    for t in tests:
        topo = t.topology_string() or runner.DEFAULT_TOPOLOGY
        print(f"{t.source}:{t.name}  topology={topo}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from ktstr.host.report import terminal_report
    from ktstr.host.verdict import Claim, Splat, TestOutcome, Verdict

    path = Path(args.result)
    if path.is_dir():
        path = path / "result.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        print(f"ktstr: cannot read result {path}: {exc} (give a result.json written by ktstr run "
              f"or found in bazel-testlogs/<target>/test.outputs/)", file=sys.stderr)
        return 2
    outcomes = []
    for t in data.get("tests", []):
        outcomes.append(TestOutcome(
            name=t["name"], verdict=Verdict(t["verdict"]), reason=t["reason"],
            failed_claims=[Claim(**c) for c in t.get("failed_claims", [])],
            details=t.get("details", []), splats=[Splat(**s) for s in t.get("splats", [])],
            sched_ext_exit=t.get("sched_ext_exit", ""), scheduler_output=t.get("scheduler_output", ""),
            duration_s=t.get("duration_s", 0.0), sched_ext_dump=t.get("sched_ext_dump", "")))
    console = ""
    if data.get("boots"):
        log = path.parent / data["boots"][-1]["console_log"]
        if log.exists():
            console = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
    print(terminal_report(data.get("suite", "?"), outcomes, data.get("engine", "?"),
                          data.get("wall_s", 0.0), console, path.parent))
    return 0 if all(o.verdict.ok for o in outcomes) else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ktstr", description="sched_ext test harness")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run @ktstr_test functions in a VM")
    r.add_argument("sources", nargs="+", help="test .py files")
    r.add_argument("--kernel", required=True, help="bzImage")
    r.add_argument("--initramfs", action="append", required=True,
                   help="base initramfs cpio (repeat for more layers, in order)")
    r.add_argument("--test", help="run only this test function")
    r.add_argument("--filter", help="comma list of test names/substrings")
    _add_scheduler_args(r)
    r.add_argument("--topology", help="e.g. 1n2l4c1t or a preset such as tiny-2llc "
                                      "(default: each test's own, else 1n1l2c1t)")
    r.add_argument("--memory-mib", type=int, default=1024)
    r.add_argument("--duration", type=float)
    r.add_argument("--timeout", type=float, default=120.0, help="per VM boot, seconds")
    r.add_argument("--cmdline", default="", help="extra kernel command line")
    r.add_argument("--engine", choices=ENGINE_NAMES, help="default: $KTSTR_ENGINE or auto")
    r.add_argument("--expect-fail", help="negative test: pass iff FAIL with this text in the evidence")
    r.add_argument("--may-fail", action="append",
                   help="known intermittent failure (repeatable): a FAIL with this text counts as PASS")
    r.add_argument("--out", default="ktstr-out", help="directory for logs and result.json")
    r.add_argument("--junit", help="also write JUnit XML here")
    r.add_argument("--suite")
    r.add_argument("--console", action="store_true", help="stream the guest console to stderr")
    r.set_defaults(func=_run)

    st = sub.add_parser("selftests", help="run the upstream sched_ext selftests runner in a VM")
    st.add_argument("--kernel", required=True)
    st.add_argument("--runner", required=True, help="the selftests 'runner' binary")
    st.add_argument("--runner-arg", action="append", default=[], help="e.g. -t create_dsq")
    st.add_argument("--initramfs", action="append", default=[], help="extra layers (none needed)")
    st.add_argument("--topology")
    st.add_argument("--memory-mib", type=int, default=512)
    st.add_argument("--timeout", type=float, default=300.0)
    st.add_argument("--cmdline", default="")
    st.add_argument("--engine", choices=ENGINE_NAMES)
    st.add_argument("--out", default="ktstr-out")
    st.add_argument("--junit")
    st.add_argument("--suite")
    st.add_argument("--console", action="store_true")
    st.set_defaults(func=_selftests)

    sh = sub.add_parser("shell", help="boot a test VM (topology, scheduler) with a shell on this terminal")
    sh.add_argument("--kernel", required=True, help="bzImage")
    sh.add_argument("--initramfs", action="append", required=True, help="base initramfs cpio (repeatable)")
    _add_scheduler_args(sh)
    sh.add_argument("--topology", help="e.g. 2n4l2c1t or a preset (default 1n1l2c1t)")
    sh.add_argument("--memory-mib", type=int, default=1024)
    sh.add_argument("--cmdline", default="", help="extra kernel command line")
    sh.add_argument("--engine", choices=ENGINE_NAMES, help="a QEMU engine (default: auto)")
    sh.set_defaults(func=_shell)

    l = sub.add_parser("list", help="list @ktstr_test functions")
    l.add_argument("sources", nargs="+")
    l.set_defaults(func=_list)

    s = sub.add_parser("show", help="print the report of a result.json")
    s.add_argument("result")
    s.set_defaults(func=_show)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)
