"""The monitor of one boot, as the engine and the runner see it.

The engine asks it for the file descriptors to back guest RAM with (`ram_fds`), tells it
when the VM is up (`vm_started`, with a callable that stops the VM) and when it is gone
(`vm_stopped`). The runner then takes its `MonitorReport`: the samples, the failures (live
stall, after-the-run windows), and whether it attached at all, written as monitor.json and a
timeline picture. A monitor that cannot work here (no layout, an engine that cannot share
memory, a kernel that does not match) says why in the report and never takes a verdict away.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ktstr.monitor.thresholds import LiveChecks, MonitorFailure, MonitorThresholds, judge_windows
from ktstr.monitor.layout import KernelLayout
from ktstr.monitor.memory import GuestMemory, KernelMemory, MemoryReadError
from ktstr.monitor.sampler import DEFAULT_HZ_KVM, DEFAULT_HZ_TCG, Sample, Sampler
from ktstr.wire.bounds import MAX_LINE_BYTES, Lines
from ktstr.wire.marks import TEST_MARK

MONITOR_SCHEMA = 1
_MARK = re.compile(re.escape(TEST_MARK).replace(r"\{name\}", r"(?P<name>\S+)"))
# sched_ext's own lines (kernel/sched/ext.c), timed on the host clock as they appear, so the
# scheduler's attach and the kernel's verdict line up with the samples.
_SCX_EVENT = re.compile(r'sched_ext: BPF scheduler "[^"]*" (?P<what>enabled|disabled)')


class ConsoleMarks:
    """The test running in the guest, from the agent's marks on the console. Fed the console
    bytes as the engine's follower reads them (BootSpec.on_console), each line once and in
    bounded memory (ktstr.wire.bounds.Lines: a line without end costs MAX_LINE_BYTES, not a
    copy per sample); `clock` stamps each mark and event with the sampler's time."""

    def __init__(self, clock: Callable[[], float] = lambda: 0.0) -> None:
        self.clock = clock
        self._lines = Lines(MAX_LINE_BYTES)
        self.current = ""
        self.marks: list[tuple[float, str]] = []  # (host t, test) when each mark was seen
        self.events: list[tuple[float, str, str]] = []  # (host t, scx_enabled|scx_disabled, line)

    def feed(self, data: bytes) -> None:
        lines = self._lines.feed(data)
        if not lines:
            return
        t = self.clock()
        for _, line in lines:
            text = line.decode("utf-8", "replace")
            m = _MARK.search(text)
            if m:
                self.current = m.group("name")
                self.marks.append((t, self.current))
            e = _SCX_EVENT.search(text)
            if e:
                self.events.append((t, f"scx_{e.group('what')}", text.strip()))


@dataclass
class MonitorReport:
    status: str  # "sampled", "skipped", "not_attached", "error"
    reason: str = ""  # for every status but "sampled": why, in one sentence
    hz: float = 0.0
    attach_s: Optional[float] = None
    stopped_vm: str = ""  # the live verdict that ended the run, if any
    failures: list[MonitorFailure] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    marks: list[tuple[float, str]] = field(default_factory=list)
    events: list[tuple[float, str, str]] = field(default_factory=list)
    stopped_at: Optional[float] = None  # host t of the sample that stopped the VM
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)  # per test
    nr_cpus: int = 0

    def last_state(self) -> str:
        """What each CPU was doing at the last sample (for hung or crashed guests)."""
        if not self.samples:
            return ""
        s = self.samples[-1]
        return f"at t={s.t:.2f} s (sched_ext {s.scx_state or 'n/a'}): " + "; ".join(c.brief() for c in s.cpus)

    def scx_state_changes(self) -> list[tuple[float, Optional[str]]]:
        """(host t, state) at each sample where the sched_ext enable state changed: the
        scheduler's attach (ENABLED) and its ejection (DISABLING) on the host clock."""
        out: list[tuple[float, Optional[str]]] = []
        for s in self.samples:
            if not out or s.scx_state != out[-1][1]:
                out.append((s.t, s.scx_state))
        return out

    def summary(self) -> str:
        if self.status != "sampled":
            return f"host monitor {self.status}: {self.reason}"
        text = f"host monitor: {len(self.samples)} samples at {self.hz:g} Hz of {self.nr_cpus} CPU(s)"
        if self.attach_s is not None:
            text += f", attached {self.attach_s:.1f} s after start"
        if self.failures:
            text += f"; {len(self.failures)} failure(s): " + "; ".join(
                f"{f.test or '-'}: {f.check}" for f in self.failures)
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": MONITOR_SCHEMA,
            "status": self.status,
            "reason": self.reason,
            "hz": self.hz,
            "nr_cpus": self.nr_cpus,
            "attach_s": None if self.attach_s is None else round(self.attach_s, 3),
            "stopped_vm": self.stopped_vm,
            "summary": self.summary(),
            "thresholds": self.thresholds,
            "stopped_at": None if self.stopped_at is None else round(self.stopped_at, 3),
            "test_marks": [{"t": round(t, 3), "test": n} for t, n in self.marks],
            "console_events": [{"t": round(t, 3), "event": k, "line": line} for t, k, line in self.events],
            "scx_state_changes": [{"t": round(t, 3), "state": st} for t, st in self.scx_state_changes()],
            "failures": [f.to_json() for f in self.failures],
            "samples": [s.to_json() for s in self.samples],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=None, separators=(",", ":")) + "\n")


def skipped(reason: str) -> MonitorReport:
    return MonitorReport(status="skipped", reason=reason)


class BootMonitor:
    """Implements the engines' BootObserver: memory sharing, start, stop."""

    def __init__(self, layout: KernelLayout, nr_cpus: int,
                 thresholds_for: Callable[[str], MonitorThresholds], emulated: bool,
                 hz: Optional[float] = None, attach_timeout_s: Optional[float] = None) -> None:
        self.layout = layout
        self.nr_cpus = nr_cpus
        self.thresholds_for = thresholds_for
        self.hz = hz or (DEFAULT_HZ_TCG if emulated else DEFAULT_HZ_KVM)
        self.marks = ConsoleMarks(self._sampler_t)  # fed by the engine's follower (run.plan)
        self.attach_timeout_s = attach_timeout_s
        self._fds: list[int] = []
        self._below_4g: Optional[int] = None
        self._mem: Optional[GuestMemory] = None
        self._sampler: Optional[Sampler] = None
        self._live = LiveChecks(thresholds_for, layout.hz)
        self._lock = threading.Lock()
        self._error = ""
        self._engine_refused = ""

    # --- the engine's side -------------------------------------------------------------------

    def ram_fds(self, sizes: list[int], below_4g: Optional[int] = None) -> list[int]:
        """One memfd per RAM backend (a NUMA node each), sized; the engine backs guest RAM
        with them (shared) and the monitor maps them read-only. `below_4g`: how much of the
        RAM the engine puts below 4 GiB (None: QEMU pc's rule)."""
        self._below_4g = below_4g
        self._engine_refused = ""  # a fallback engine that can share after one that could not
        for i, size in enumerate(sizes):
            fd = os.memfd_create(f"ktstr-guest-ram{i}", os.MFD_CLOEXEC)
            os.ftruncate(fd, size)
            self._fds.append(fd)
        return list(self._fds)

    def engine_cannot_share(self, reason: str) -> None:
        self._engine_refused = reason

    def vm_started(self, stop_vm: Callable[[str], None]) -> None:
        try:
            self._mem = GuestMemory.map_fds(self._fds, self._below_4g)
        except (OSError, MemoryReadError) as exc:
            self._error = f"cannot map guest RAM: {exc}"
            return
        kwargs = {} if self.attach_timeout_s is None else {"attach_timeout_s": self.attach_timeout_s}
        self._sampler = Sampler(KernelMemory(self._mem, self.layout), self.nr_cpus, self.hz,
                                current_test=lambda: self.marks.current,
                                observe=self._live, stop_vm=stop_vm, **kwargs)
        self._sampler.start()

    def _sampler_t(self) -> float:
        return self._sampler._elapsed() if self._sampler is not None else 0.0

    def vm_stopped(self) -> None:
        if self._sampler is not None:
            self._sampler.stop()
        if self._mem is not None:
            self._mem.close()
            self._mem = None
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    # --- the runner's side -------------------------------------------------------------------

    def report(self, tests: list[str]) -> MonitorReport:
        th = {t: self.thresholds_for(t).to_json() for t in tests}
        if self._engine_refused:
            return MonitorReport("skipped", self._engine_refused, thresholds=th)
        if self._sampler is None:
            return MonitorReport("error", self._error or "the engine never started the VM", thresholds=th)
        s = self._sampler
        if not s.status.attached:
            return MonitorReport("not_attached", s.status.error, hz=self.hz, thresholds=th,
                                 marks=self.marks.marks, events=self.marks.events, nr_cpus=self.nr_cpus)
        failures = [] if self._live.failure is None else [self._live.failure]
        failures += judge_windows(s.samples, self.thresholds_for)
        rep = MonitorReport("sampled", s.status.error, hz=self.hz, attach_s=s.status.attach_s,
                            stopped_vm=s.status.stopped_vm, failures=failures, samples=s.samples,
                            marks=self.marks.marks, events=self.marks.events,
                            stopped_at=s.status.stopped_at, thresholds=th, nr_cpus=self.nr_cpus)
        return rep
