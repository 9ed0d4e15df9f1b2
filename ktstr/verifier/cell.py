"""Run a verifier cell: one VM of the cell's kernel loads each scheduler's BPF programs in turn
(through the shim, stopping each loader before it attaches) and the host judges the records.

Each scheduler is one test case: it FAILs when the verifier rejects a program (reason: the
program, the errno and the log's last line; details: the log's end), when its loader dies
or hangs before everything is loaded, when it loads no program at all, when a figure is over
the scheduler's budget, or when the kernel splats meanwhile. The figures go into the result's
stats, verifier.json and a table in the report.
"""

from __future__ import annotations

import errno as errno_mod
import json
import re
import shlex
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from ktstr.host.command_layer import find_busybox
from ktstr.host.console_scan import find_splats
from ktstr.host.engines import BootResult, BootSpec, Engine, ExitKind, select_engine
from ktstr.host.evaluate import GuestRun
from ktstr.host.run_layer import HostPath, LayerFile, cpio_newc, library_files
from ktstr.host.runner import BASE_CMDLINE, BootRecord, RunReport
from ktstr.host.verdict import TestOutcome, Verdict
from ktstr.topology import Topology
from ktstr.verifier.budget import Limit, check, parse_budget
from ktstr.verifier.records import FIGURES, SchedulerRecord, Stream, parse_stream

SHIM_GUEST = "ktstr/lib/libktstr_verifier.so"
APPLETS = ("sh", "mount", "mkdir", "echo", "poweroff", "timeout")
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")
LOADER_TIMEOUT_S = 120  # per scheduler, in the guest: verification under TCG takes seconds


@dataclass(frozen=True)
class CellScheduler:
    name: str
    binary: Path
    args: tuple[str, ...] = ()
    runtime_files: tuple[Path, ...] = ()
    budget: str = ""  # budget.py syntax

    def limits(self) -> list[Limit]:
        return parse_budget(self.budget, f"budget of {self.name}")


@dataclass
class CellRequest:
    suite: str
    kernel: Path
    schedulers: list[CellScheduler]
    shim: Path
    topology: str = "1n1l2c1t"
    memory_mib: int = 1024
    timeout_s: float = 300.0
    engine: Optional[str] = None
    cmdline_extra: str = ""
    out_dir: Path = Path("ktstr-out")
    work_dir: Path = Path("ktstr-work")


@dataclass
class CellResult:
    report: RunReport
    stream: Stream
    table: str
    figures: dict = field(default_factory=dict)


def init_script(schedulers: Sequence[CellScheduler]) -> str:
    lines = [
        "#!/bin/sh",
        "mount -t proc proc /proc",
        "mount -t sysfs sys /sys",
        "mount -t devtmpfs dev /dev",
        "mount -t bpf bpf /sys/fs/bpf 2>/dev/null",
        "mkdir -p /tmp",
        "cd /tmp",
        "out=/dev/ttyS1",
    ]
    for i, s in enumerate(schedulers):
        cmd = " ".join(shlex.quote(a) for a in [f"/ktstr/sched/{i}/{s.binary.name}", *s.args])
        begin = json.dumps({"event": "begin", "sched": s.name})
        lines += [
            f"echo {shlex.quote('KTSTR_VERIFIER ' + begin)} > $out",
            f"echo 'ktstr: verifying {s.name}'",
            f"KTSTR_VERIFIER_SCHED={s.name} KTSTR_VERIFIER_OUT=$out KTSTR_VERIFIER_ONLY=1 "
            f"LD_PRELOAD=/{SHIM_GUEST} timeout {LOADER_TIMEOUT_S} {cmd} > /dev/console 2>&1 < /dev/null",
            "st=$?",
            f"echo 'KTSTR_VERIFIER {{\"event\":\"end\",\"sched\":\"{s.name}\",\"status\":'$st'}}' > $out",
        ]
    lines += ["poweroff -f", ""]
    return "\n".join(lines)


def layer_files(req: CellRequest) -> list[LayerFile | HostPath]:
    for s in req.schedulers:
        if not _NAME.match(s.name):
            raise ValueError(f"scheduler name {s.name!r}: use letters, digits, _ . + - only")
        s.limits()  # a bad budget fails before the VM boots
    busybox = find_busybox()
    files: list[LayerFile | HostPath] = [
        LayerFile("init", init_script(req.schedulers).encode(), 0o755),
        LayerFile("bin/busybox", busybox.read_bytes(), 0o755),
        LayerFile(SHIM_GUEST, req.shim.read_bytes(), 0o755),
        LayerFile("dev/console", b"", stat.S_IFCHR | 0o600, (5, 1)),
    ]
    files += [LayerFile(f"bin/{a}", b"busybox", stat.S_IFLNK | 0o777) for a in APPLETS]
    files += [LayerFile(f"{d}/.keep", b"") for d in ("proc", "sys", "tmp")]
    binaries = [req.shim]
    for i, s in enumerate(req.schedulers):
        files.append(LayerFile(f"ktstr/sched/{i}/{s.binary.name}", s.binary.read_bytes(), 0o755))
        files += [LayerFile(f"ktstr/sched/{i}/{f.name}", f.read_bytes(), 0o755) for f in s.runtime_files]
        binaries.append(s.binary)
    return files + library_files(binaries)


def _errno_name(n: int) -> str:
    return errno_mod.errorcode.get(n, str(n))


def judge(s: CellScheduler, rec: Optional[SchedulerRecord], boot: BootResult, splats: list) -> TestOutcome:
    out = TestOutcome(name=s.name, verdict=Verdict.FAIL, reason="")
    if rec is None:
        out.reason = f"the guest never started the loader: {boot.exit_reason or boot.detail or boot.exit_kind.value}"
        return out
    own = rec.own_programs
    for p in own:
        out.stats.update({f"{p.name}.{k}": float(v) for k, v in p.figures.items() if v >= 0})
    ok = [p for p in own if p.ok]
    if ok:
        out.stats["total.insns"] = float(sum(max(p.figures["insns"], 0) for p in ok))
        out.stats["total.time_us"] = float(sum(max(p.figures["time_us"], 0) for p in ok))
        out.stats["max.peak_states"] = float(max(p.figures["peak_states"] for p in ok))
    rejected = [p for p in own if not p.ok]
    if rejected:
        p = rejected[0]
        tail = [l for l in p.log_tail.splitlines() if l.strip()]
        out.reason = (f"verifier rejected {p.name} ({_errno_name(p.errno)}): "
                      f"{tail[-1] if tail else 'no log'}")
        out.details = [f"verifier log of {p.name}, last {len(tail)} lines:", *tail]
        out.details += [f"also rejected: {q.name} ({_errno_name(q.errno)})" for q in rejected[1:]]
    elif rec.exit_status is None:
        out.reason = (f"guest {boot.exit_kind.value} while {s.name} was loading "
                      f"({boot.exit_reason or boot.detail})")
    elif not rec.attached:
        out.reason = (f"loader exited with status {rec.exit_status} before loading finished "
                      f"(it never reached the struct_ops update); its output is on the console")
    elif not own:
        out.reason = ("no BPF program went through libc's syscall(): is the loader linked "
                      "statically, or does it load nothing?")
    else:
        over = check(s.limits(), ok)
        if over:
            out.reason = over[0]
            out.details = over[1:]
        else:
            out.verdict = Verdict.PASS
            largest = max(ok, key=lambda p: p.figures["insns"])
            out.reason = (f"{len(ok)} programs verified: {int(out.stats['total.insns'])} insns processed "
                          f"(largest {largest.name}: {largest.figures['insns']}), peak states "
                          f"{int(out.stats['max.peak_states'])}, {int(out.stats['total.time_us'])} us")
    if splats:
        out.splats = list(splats)
        out.verdict = Verdict.FAIL
        out.reason = f"kernel {splats[0].kind}: {splats[0].line}; {out.reason}"
    return out


def table(stream: Stream, schedulers: Sequence[CellScheduler]) -> str:
    head = (f"{'scheduler':<20} {'program':<18} {'insns':>8} {'states':>7} {'peak':>6} "
            f"{'max/insn':>8} {'time us':>8} {'stack':>10} {'verified':>8}")
    lines = ["verifier figures (BPF_LOG_STATS; verified = bpf_prog_info.verified_insns)", head]
    for s in schedulers:
        rec = stream.schedulers.get(s.name)
        for p in (rec.own_programs if rec else []):
            f = p.figures
            if not p.ok:
                lines.append(f"{s.name:<20} {p.name:<18} REJECTED ({_errno_name(p.errno)})")
                continue
            lines.append(f"{s.name:<20} {p.name:<18} {f['insns']:>8} {f['total_states']:>7} "
                         f"{f['peak_states']:>6} {f['max_states_per_insn']:>8} {f['time_us']:>8} "
                         f"{p.stack_depth:>10} {f['verified_insns']:>8}")
    return "\n".join(lines)


def figures_json(stream: Stream, schedulers: Sequence[CellScheduler], outcomes: Sequence[TestOutcome]) -> dict:
    by_name = {o.name: o for o in outcomes}
    out = {}
    for s in schedulers:
        rec = stream.schedulers.get(s.name)
        out[s.name] = {
            "verdict": by_name[s.name].verdict.value,
            "reason": by_name[s.name].reason,
            "budget": s.budget,
            "attached": bool(rec and rec.attached),
            "exit_status": rec.exit_status if rec else None,
            "programs": [{"name": p.name, "prog_type": p.prog_type, "ok": p.ok,
                          "errno": p.errno, "insn_cnt": p.insn_cnt, "stack_depth": p.stack_depth,
                          **{k: p.figures[k] for k in FIGURES},
                          **({"log_tail": p.log_tail} if not p.ok else {})}
                         for p in (rec.own_programs if rec else [])],
        }
    return out


def run(req: CellRequest, engine: Optional[Engine] = None) -> CellResult:
    start = time.monotonic()
    engine = engine or select_engine(req.engine)
    req.out_dir.mkdir(parents=True, exist_ok=True)
    boot_dir = req.work_dir / "boot0"
    boot_dir.mkdir(parents=True, exist_ok=True)
    layer = boot_dir / "verifier-layer.cpio"
    layer.write_bytes(cpio_newc(layer_files(req)))
    topology = Topology.parse(req.topology)
    spec = BootSpec(kernel=req.kernel, initrds=(layer,),
                    cmdline=f"{BASE_CMDLINE} {req.cmdline_extra}".strip(), topology=topology,
                    memory_mib=req.memory_mib, timeout_s=req.timeout_s,
                    console_path=req.out_dir / "console.log", result_path=req.out_dir / "verifier-stream.txt",
                    work_dir=boot_dir)
    boot = engine.run(spec)
    stream = parse_stream(boot.result_stream)
    splats = find_splats(boot.console_tail)
    outcomes = [judge(s, stream.schedulers.get(s.name), boot, splats) for s in req.schedulers]
    for o in outcomes:
        if stream.errors and o.verdict == Verdict.PASS:
            o.verdict = Verdict.INCONCLUSIVE
            o.reason = f"{len(stream.errors)} verifier record(s) unreadable: {stream.errors[0]}"
    report = RunReport(suite=req.suite, engine=engine.name, outcomes=outcomes)
    report.boots.append(BootRecord(str(topology), [s.name for s in req.schedulers], boot,
                                   spec.console_path, spec.result_path, GuestRun()))
    report.wall_s = time.monotonic() - start
    return CellResult(report, stream, table(stream, req.schedulers),
                      figures_json(stream, req.schedulers, outcomes))
