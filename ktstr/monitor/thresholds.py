"""Monitor checks: thresholds with the original ktstr's names and defaults, judged on the
host's samples.

Live (every sample, may stop the VM): `fail_on_stall` — a sched_ext task runnable but not
run for longer than `max_runnable_wait_s` (guest time, from its runnable_at in jiffies),
a CPU with runnable tasks whose rq clock does not advance while guest time does for as long,
or guest time (jiffies) standing still for `frozen_after_s` host seconds. After the run, per
test window: `max_imbalance_ratio` (a CPU's nr_running / max(1, min nr_running) over the CPUs
its running task may use, its cpuset: a pile inside a one-CPU cpuset is not an imbalance) and
`max_local_dsq_depth`. Every threshold must hold for `sustained_samples` consecutive samples
before it fails. A failure carries the samples that broke it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Callable, Mapping, Optional

from ktstr.errors import KtstrError
from ktstr.monitor.sampler import CpuSample, Sample


class MonitorConfigError(KtstrError, ValueError):
    """A monitor option with an unknown name or a bad value (named in the text)."""


@dataclass(frozen=True)
class MonitorThresholds:
    enabled: bool = True  # run the monitor at all (False: no sampling, no checks)
    max_imbalance_ratio: float = 4.0
    max_local_dsq_depth: int = 50
    fail_on_stall: bool = True
    sustained_samples: int = 5
    max_runnable_wait_s: float = 5.0  # guest seconds a task may wait runnable; an rq clock may stop
    frozen_after_s: float = 30.0  # host seconds of unchanged jiffies: the whole guest is stuck
    # Switches turned off ("off: why", or plain "false"): (name, why), in the report as
    # "not checked: host monitor <name>: <why>".
    unchecked: tuple[tuple[str, str], ...] = ()

    def merged(self, overrides: Optional[Mapping[str, Any]], source: str) -> "MonitorThresholds":
        """These thresholds with `overrides` applied (a decorator's dict or a Bazel
        attribute's string dict); unknown names and bad values raise MonitorConfigError
        naming `source`."""
        if not overrides:
            return self
        if not isinstance(overrides, Mapping):
            raise MonitorConfigError(f"{source}: monitor options must be a dict, got {overrides!r}")
        known = {f.name: f.type for f in fields(self) if f.name != "unchecked"}
        changes: dict[str, Any] = {}
        off = dict(self.unchecked)
        for key, raw in overrides.items():
            if key not in known:
                raise MonitorConfigError(f"{source}: unknown monitor option {key!r}; known: "
                                         f"{', '.join(sorted(known))}")
            default = getattr(self, key)
            if isinstance(default, bool) and isinstance(raw, str) and raw.strip().lower().startswith("off:"):
                changes[key], off[key] = False, raw.strip()[4:].strip() or "switched off (no reason given)"
                continue
            changes[key] = _coerce(key, raw, default, source)
            if isinstance(default, bool):
                if changes[key]:
                    off.pop(key, None)
                else:
                    off[key] = f"switched off by {source} (no reason given)"
        out = replace(self, unchecked=tuple(sorted(off.items())), **changes)
        if out.sustained_samples < 1:
            raise MonitorConfigError(f"{source}: sustained_samples must be >= 1, got {out.sustained_samples}")
        return out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _coerce(key: str, raw: Any, default: Any, source: str) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise MonitorConfigError(raw)
        if isinstance(default, int):
            return int(raw)
        return float(raw)
    except (TypeError, ValueError):
        raise MonitorConfigError(f"{source}: monitor option {key}={raw!r} is not a "
                                 f"{type(default).__name__}") from None


@dataclass
class MonitorFailure:
    check: str  # the threshold's name, e.g. "max_imbalance_ratio"
    test: str
    message: str
    samples: list[dict[str, Any]] = field(default_factory=list)  # the samples that broke it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _busy(c: CpuSample) -> bool:
    return not c.error and not c.idle and c.nr_running > 0


class LiveChecks:
    """Stall detection on each sample as it arrives; returns a reason to stop the VM."""

    def __init__(self, thresholds_for: Callable[[str], MonitorThresholds], hz: int) -> None:
        self.thresholds_for = thresholds_for  # test name -> MonitorThresholds
        self.hz = hz
        self.wait_streak = 0
        self.clock_streak = 0
        self._clock_seen: dict[int, tuple[int, int]] = {}  # cpu -> (rq_clock, jiffies when it last moved)
        self._jiffies_seen: Optional[tuple[int, float]] = None  # (jiffies, host t when it last moved)
        self.failure: Optional[MonitorFailure] = None
        self._recent: list[Sample] = []

    def __call__(self, s: Sample) -> str:
        th: MonitorThresholds = self.thresholds_for(s.test)
        self._recent = (self._recent + [s])[-max(th.sustained_samples, 1):]
        if not th.enabled or not th.fail_on_stall or self.failure is not None:
            return ""
        limit_ms = th.max_runnable_wait_s * 1000.0
        # 1. A sched_ext task runnable but not run past the limit.
        waiting = [c for c in s.cpus if not c.error and c.oldest_wait_ms is not None
                   and c.oldest_wait_ms > limit_ms]
        self.wait_streak = self.wait_streak + 1 if waiting and s.scx_state == "ENABLED" else 0
        if self.wait_streak >= th.sustained_samples:
            c = max(waiting, key=lambda c: c.oldest_wait_ms or 0)
            return self._fail(s, "fail_on_stall",
                              f"host monitor: runnable task stall: {c.oldest_comm}[{c.oldest_pid}] "
                              f"runnable on cpu{c.cpu} for {(c.oldest_wait_ms or 0) / 1000:.2f} s without "
                              f"running (limit {th.max_runnable_wait_s:g} s)")
        # 2. A busy CPU whose rq clock stands still while guest time moves on.
        stuck = []
        for c in s.cpus:
            if c.error:
                continue
            prev = self._clock_seen.get(c.cpu)
            if prev is None or c.rq_clock != prev[0] or not _busy(c):
                self._clock_seen[c.cpu] = (c.rq_clock, s.jiffies)
                continue
            if (s.jiffies - prev[1]) * 1000.0 / self.hz > limit_ms:
                stuck.append((c, (s.jiffies - prev[1]) / self.hz))
        self.clock_streak = self.clock_streak + 1 if stuck else 0
        if self.clock_streak >= th.sustained_samples:
            c, secs = stuck[0]
            return self._fail(s, "fail_on_stall",
                              f"host monitor: rq clock of cpu{c.cpu} stopped for {secs:.2f} s of guest "
                              f"time with {c.nr_running} runnable (running "
                              f"{'idle' if c.idle else f'{c.curr_comm}[{c.curr_pid}]'})")
        # 3. The whole guest stopped: jiffies unchanged for frozen_after_s host seconds.
        if self._jiffies_seen is None or s.jiffies != self._jiffies_seen[0]:
            self._jiffies_seen = (s.jiffies, s.t)
        elif s.t - self._jiffies_seen[1] > th.frozen_after_s:
            return self._fail(s, "fail_on_stall",
                              f"host monitor: guest time stopped: jiffies unchanged for "
                              f"{s.t - self._jiffies_seen[1]:.1f} s of host time")
        return ""

    def _fail(self, s: Sample, check: str, message: str) -> str:
        state = "; ".join(c.brief() for c in s.cpus)
        self.failure = MonitorFailure(check, s.test, f"{message}; per-CPU state: {state}",
                                      [x.to_json() for x in self._recent])
        return message


def judge_windows(samples: list[Sample], thresholds_for) -> list[MonitorFailure]:
    """The after-the-run checks, each test judged on its own samples with its thresholds."""
    out: list[MonitorFailure] = []
    by_test: dict[str, list[Sample]] = {}
    for s in samples:
        if s.test:
            by_test.setdefault(s.test, []).append(s)
    for test, window in by_test.items():
        th: MonitorThresholds = thresholds_for(test)
        if not th.enabled:
            continue
        out += _sustained(window, th, test, "max_imbalance_ratio", _imbalance_breach(th))
        out += _sustained(window, th, test, "max_local_dsq_depth", _dsq_breach(th))
    return out


def _imbalance_breach(th: MonitorThresholds):
    """Each busy CPU against the CPUs its running task may use (cpus_ptr: the cpuset and
    affinity the workers on it share): tasks confined to one CPU cannot be balanced, so the
    original's bound holds within each cpuset group. A CPU whose running task's CPUs are
    unknown (no such field) is compared with every CPU, as before."""
    def breach(s: Sample) -> str:
        cpus = [c for c in s.cpus if not c.error]
        worst: Optional[tuple[float, CpuSample, list[CpuSample]]] = None
        for c in cpus:
            peers = [p for p in cpus if c.allowed is None or (c.allowed >> p.cpu) & 1]
            if len(peers) < 2:
                continue
            ratio = c.nr_running / max(1, min(p.nr_running for p in peers))
            if worst is None or ratio > worst[0]:
                worst = (ratio, c, peers)
        if worst is None or worst[0] <= th.max_imbalance_ratio:
            return ""
        ratio, c, peers = worst
        counts = [p.nr_running for p in cpus]
        group = "" if len(peers) == len(cpus) else \
            f"; cpu{c.cpu}'s running task may use cpus {','.join(str(p.cpu) for p in peers)}"
        return (f"run-queue imbalance {ratio:.1f} > {th.max_imbalance_ratio:g} "
                f"(nr_running per CPU {counts}{group})")
    return breach


def _dsq_breach(th: MonitorThresholds):
    def breach(s: Sample) -> str:
        deep = [(c.cpu, c.local_dsq) for c in s.cpus
                if not c.error and c.local_dsq is not None and c.local_dsq > th.max_local_dsq_depth]
        if deep:
            cpu, depth = max(deep, key=lambda x: x[1])
            return f"local DSQ of cpu{cpu} holds {depth} > {th.max_local_dsq_depth} tasks"
        return ""
    return breach


def _sustained(window: list[Sample], th: MonitorThresholds, test: str, check: str, breach) -> list[MonitorFailure]:
    run: list[tuple[Sample, str]] = []
    for s in window:
        why = breach(s)
        if not why:
            run = []
            continue
        run.append((s, why))
        if len(run) >= th.sustained_samples:
            first, last = run[0][0], run[-1][0]
            return [MonitorFailure(
                check, test,
                f"host monitor: {check}: {run[-1][1]} for {len(run)} samples "
                f"(t={first.t:.2f}-{last.t:.2f} s)",
                [x.to_json() for x, _ in run])]
    return []
