"""Verifier cells as a payload of the runner (ktstr/host/jobs.py): one VM of the cell's
kernel loads each scheduler's BPF programs in turn (through the shim, stopping each loader
before it attaches) and the host judges the records.

Each scheduler is one test case: it FAILs when the verifier rejects a program (reason: the
program, the errno and the log's last line; details: the log's end), when its loader dies
or hangs before everything is loaded, when it loads no program at all, when a figure is over
the scheduler's budget, or when the kernel splats meanwhile. The figures go into the test's
stats ("<program>.<figure>", "total.insns", ...), so result.json carries them, and
figures_table / figures_json present them.
"""

from __future__ import annotations

import errno as errno_mod
import re
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Optional, Sequence

from ktstr.errors import KtstrError
from ktstr.host.command_layer import find_busybox
from ktstr.host.console_scan import find_splats
from ktstr.host.engines import BootResult
from ktstr.host.plan import PlannedBoot, one_boot
from ktstr.host.run_layer import HostPath, LayerFile, cpio_newc, library_files
from ktstr.verifier.budget import Limit, check, parse_budget
from ktstr.verifier.records import SchedulerRecord, parse_stream
from ktstr.wire.defaults import VERIFIER, JobDefaults
from ktstr.wire.messages import GuestRun
from ktstr.wire.results import TestOutcome
from ktstr.wire.status import Status
from ktstr.wire.verifier import FIGURES, begin_frame, end_frames


class CellError(KtstrError, ValueError):
    """A verifier cell that cannot be built as asked (a scheduler name the guest's shell cannot carry)."""


SHIM_GUEST = "ktstr/lib/libktstr_verifier.so"
APPLETS = ("sh", "mount", "mkdir", "echo", "poweroff", "timeout", "cat", "dd", "stty")
RECORDS_GUEST = "ktstr/verifier"  # <i>/begin, <i>/end: the frames /init sends (ktstr/wire/verifier.py)
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")
# Lines the verifier appends after its verdict (BPF_LOG_STATS).
_STATS_LINES = ("processed ", "verification time ", "stack depth ")
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
        # Binary frames: no \n -> \r\n on the way out. Held open, so the setting stays for the
        # shim's opens too.
        "exec 3>$out",
        "stty -F $out raw -echo",
    ]
    for i, s in enumerate(schedulers):
        cmd = " ".join(shlex.quote(a) for a in [f"/ktstr/sched/{i}/{s.binary.name}", *s.args])
        _, end_size = end_frames(s.name)
        lines += [
            f"cat /{RECORDS_GUEST}/{i}/begin >&3",
            f"echo 'ktstr: verifying {s.name}'",
            f"KTSTR_VERIFIER_SCHED={s.name} KTSTR_VERIFIER_OUT=$out KTSTR_VERIFIER_ONLY=1 "
            f"LD_PRELOAD=/{SHIM_GUEST} timeout {LOADER_TIMEOUT_S} {cmd} > /dev/console 2>&1 < /dev/null",
            "st=$?",
            f"dd if=/{RECORDS_GUEST}/{i}/end bs={end_size} skip=$st count=1 >&3 2>/dev/null",
        ]
    lines += ["poweroff -f", ""]
    return "\n".join(lines)


def layer_files(schedulers: Sequence[CellScheduler], shim: Path) -> list[LayerFile | HostPath]:
    for s in schedulers:
        if not _NAME.match(s.name):
            raise CellError(f"scheduler name {s.name!r}: use letters, digits, _ . + - only")
        s.limits()  # a bad budget fails before the VM boots
    busybox = find_busybox()
    files: list[LayerFile | HostPath] = [
        LayerFile("init", init_script(schedulers).encode(), 0o755),
        LayerFile("bin/busybox", busybox.read_bytes(), 0o755),
        LayerFile(SHIM_GUEST, shim.read_bytes(), 0o755),
        LayerFile("dev/console", b"", stat.S_IFCHR | 0o600, (5, 1)),
    ]
    files += [LayerFile(f"bin/{a}", b"busybox", stat.S_IFLNK | 0o777) for a in APPLETS]
    files += [LayerFile(f"{d}/.keep", b"") for d in ("proc", "sys", "tmp")]
    binaries = [shim]
    own: list[Path] = []
    for i, s in enumerate(schedulers):
        files.append(LayerFile(f"{RECORDS_GUEST}/{i}/begin", begin_frame(s.name)))
        files.append(LayerFile(f"{RECORDS_GUEST}/{i}/end", end_frames(s.name)[0]))
        files.append(LayerFile(f"ktstr/sched/{i}/{s.binary.name}", s.binary.read_bytes(), 0o755))
        files += [LayerFile(f"ktstr/sched/{i}/{f.name}", f.read_bytes(), 0o755) for f in s.runtime_files]
        binaries.append(s.binary)
        own += s.runtime_files
    return files + library_files(binaries, own)


def _errno_name(n: int) -> str:
    return errno_mod.errorcode.get(n, str(n))


def judge(s: CellScheduler, rec: Optional[SchedulerRecord], boot: BootResult, splats: list) -> TestOutcome:
    out = TestOutcome(name=s.name, verdict=Status.FAIL, reason="")
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
        tail = [line for line in p.log_tail.splitlines() if line.strip()]
        # The reason is the last line before the statistics the kernel appends.
        words = [line for line in tail if not line.startswith(_STATS_LINES)]
        out.reason = (f"verifier rejected {p.name} ({_errno_name(p.errno)}): "
                      f"{words[-1] if words else 'no log'}")
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
            out.verdict = Status.PASS
            largest = max(ok, key=lambda p: p.figures["insns"])
            out.reason = (f"{len(ok)} programs verified: {int(out.stats['total.insns'])} insns processed "
                          f"(largest {largest.name}: {largest.figures['insns']}), peak states "
                          f"{int(out.stats['max.peak_states'])}, {int(out.stats['total.time_us'])} us")
    if splats:
        out.splats = list(splats)
        out.verdict = Status.FAIL
        out.reason = f"kernel {splats[0].kind}: {splats[0].line}; {out.reason}"
    return out


def _programs(o: TestOutcome) -> dict[str, dict[str, int]]:
    """{program: {figure: value}} back from an outcome's stats (result.json keeps them)."""
    progs: dict[str, dict[str, int]] = {}
    for key, value in o.stats.items():
        prog, _, figure = key.rpartition(".")
        if figure in FIGURES and prog not in ("total", "max"):
            progs.setdefault(prog, {})[figure] = int(value)
    return progs


def figures_table(outcomes: Sequence[TestOutcome]) -> str:
    head = (f"{'scheduler':<20} {'program':<18} {'insns':>8} {'states':>7} {'peak':>6} "
            f"{'max/insn':>8} {'time us':>8} {'verified':>8}")
    lines = ["verifier figures (BPF_LOG_STATS; verified = bpf_prog_info.verified_insns)", head]
    for o in outcomes:
        progs = _programs(o)
        if not progs:
            lines.append(f"{o.name:<20} {'-':<18} {o.verdict.value}: {o.reason}")
        for prog, f in sorted(progs.items()):
            lines.append(f"{o.name:<20} {prog:<18} {f.get('insns', -1):>8} {f.get('total_states', -1):>7} "
                         f"{f.get('peak_states', -1):>6} {f.get('max_states_per_insn', -1):>8} "
                         f"{f.get('time_us', -1):>8} {f.get('verified_insns', -1):>8}")
    return "\n".join(lines)


def figures_json(outcomes: Sequence[TestOutcome]) -> dict[str, Any]:
    return {o.name: {"verdict": o.verdict.value, "reason": o.reason, "details": o.details,
                     "programs": _programs(o),
                     "totals": {k: v for k, v in o.stats.items() if k.startswith(("total.", "max."))}}
            for o in outcomes}


@dataclass(frozen=True)
class VerifierCells:
    """The runner's payload for a verifier cell (see ktstr/host/jobs.py's GuestJob)."""

    JOB: ClassVar[JobDefaults] = VERIFIER

    schedulers: tuple[CellScheduler, ...]
    shim: Path

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> VerifierCells:
        """From the JSON config ktstr_verifier_test wrote (verifier_config_rule.bzl)."""
        return cls(tuple(CellScheduler(name=s["name"], binary=Path(s["binary"]), args=tuple(s.get("args", ())),
                                       runtime_files=tuple(Path(p) for p in s.get("runtime_files", ())),
                                       budget=s.get("budget", "")) for s in cfg["schedulers"]),
                   Path(cfg["shim"]))

    def names(self) -> list[str]:
        return [s.name for s in self.schedulers]

    def shard(self, index: int, total: int) -> Optional[VerifierCells]:
        return self if index == 0 else None  # one VM loads them all

    def plan(self, topology_override: str) -> list[PlannedBoot]:
        return one_boot(topology_override)

    def write_layer(self, boot_dir: Path, boot: PlannedBoot, suite: str, emulated: bool) -> Path:
        boot_dir.mkdir(parents=True, exist_ok=True)
        layer = boot_dir / "verifier-layer.cpio"
        layer.write_bytes(cpio_newc(layer_files(self.schedulers, self.shim)))
        return layer

    def judge(self, boot: PlannedBoot, result: BootResult) -> tuple[list[TestOutcome], GuestRun]:
        stream = parse_stream(result.result_stream)
        splats = find_splats(result.console_tail)
        outcomes = [judge(s, stream.schedulers.get(s.name), result, splats) for s in self.schedulers]
        for o, s in zip(outcomes, self.schedulers, strict=True):
            if s.budget:
                o.details.append(f"budget: {s.budget}")
            if stream.errors and o.verdict == Status.PASS:
                o.verdict = Status.INCONCLUSIVE
                o.reason = f"{len(stream.errors)} verifier record(s) unreadable: {stream.errors[0]}"
        return outcomes, GuestRun(stream_errors=list(stream.errors))
