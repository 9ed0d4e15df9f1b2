"""Test and scheduler declarations.

The host lists tests by reading the decorator's literal keyword arguments from the source
(ktstr.host.discovery), so keep topology/duration arguments literal.

Every keyword either takes effect or is refused with the list of valid ones: a typo or an
option this harness does not implement must not pass silently.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ktstr.checks.assertions import Assert
from ktstr.topology import shape_text

# Set on the Bazel targets, not in Python: what a keyword refused here should use instead.
_ELSEWHERE = {
    "binary": "the scheduler binary is the Bazel target's (ktstr_bpf_scheduler / ktstr_scheduler)",
    "args": "scheduler arguments go on the Bazel target (default_args, or ktstr_test's sched_args)",
    "sched_args": "scheduler arguments go on the Bazel target (ktstr_test's sched_args)",
    "ops_name": "ops_name is the Bazel scheduler target's",
    "expect_fail": "expect_fail is the Bazel target's (ktstr_test(expect_fail = ...)): the host "
                   "judges it against the console too",
    "timeout": "the VM timeout is the Bazel target's (ktstr_test's timeout)",
}


def _refuse(what: str, unknown: list[str], valid: list[str]) -> None:
    lines = []
    for k in unknown:
        if k in _ELSEWHERE:
            lines.append(f"{k}: {_ELSEWHERE[k]}")
            continue
        near = difflib.get_close_matches(k, valid, n=1)
        lines.append(f"{k}: unknown" + (f" (did you mean {near[0]}?)" if near else ""))
    raise TypeError(f"{what}: " + "; ".join(lines) + f". Valid keywords: {', '.join(valid)}")


def _split_checks(kwargs: dict[str, Any], what: str, valid: list[str]) -> Optional[Assert]:
    """Check knobs given as keywords (max_gap_ms=5000) -> an Assert layer; others refused."""
    knobs = set(Assert.knobs())
    unknown = sorted(k for k in kwargs if k not in knobs)
    if unknown:
        _refuse(what, unknown, valid + sorted(knobs))
    return Assert(**kwargs) if kwargs else None


@dataclass(frozen=True)
class SchedulerDef:
    """Checks that hold for every test of a scheduler, and its name: a test declaring it
    fails when the VM runs another scheduler."""

    name: str
    assert_: Optional[Assert] = None


EEVDF = SchedulerDef(name="eevdf")

_SCHED_KEYWORDS = ["name", "assert_"]


def declare_scheduler(name: str, assert_: Optional[Assert] = None, **checks: Any) -> SchedulerDef:
    """A scheduler's checks: declare_scheduler("scx_mine", max_gap_ms=500) or
    assert_=Assert(...). The binary, its arguments and ops_name belong to the Bazel target."""
    layer = _split_checks(checks, f"declare_scheduler({name!r})", _SCHED_KEYWORDS)
    if layer is not None:
        assert_ = (assert_ or Assert()).merge(layer)
    return SchedulerDef(name, assert_)


@dataclass
class TestEntry:
    name: str
    func: Callable
    numa_nodes: int = 1
    llcs: int = 1
    cores: int = 2
    threads: int = 1
    topology_text: str = ""          # topology="1n2l2c1t" (instead of the four counts)
    duration: float = 2.0
    memory_mib: int = 0              # 0: the target's; else the VM must have this much
    watchdog_timeout_s: float = 0.0  # 0: the target's / the scheduler's; else sched_ext's watchdog
    scheduler: Optional[SchedulerDef] = None
    assert_: Optional[Assert] = None
    extra: dict = field(default_factory=dict)

    @property
    def topology(self) -> str:
        return self.topology_text or shape_text(self.numa_nodes, self.llcs, self.cores, self.threads)


REGISTRY: dict[str, TestEntry] = {}

_TEST_KEYWORDS = ["numa_nodes", "llcs", "cores", "threads", "topology", "duration", "memory_mib",
                  "watchdog_timeout_s", "monitor", "scheduler", "assert_"]
WATCHDOG_MAX_S = 30.0  # the kernel's SCX_WATCHDOG_MAX_TIMEOUT


def _positive(name: str, value: Any, kind: type) -> None:
    if not isinstance(value, kind) or isinstance(value, bool) or value <= 0:
        raise TypeError(f"ktstr_test {name}={value!r}: expected a positive {kind.__name__}")


def ktstr_test(numa_nodes: int = 1, llcs: int = 1, cores: int = 2, threads: int = 1,
               topology: str = "", duration: float = 2.0, memory_mib: int = 0,
               watchdog_timeout_s: float = 0.0, monitor: Optional[dict] = None,
               scheduler: Optional[SchedulerDef] = None, assert_: Optional[Assert] = None, **checks: Any):
    """Register `fn(ctx) -> AssertResult` as a ktstr test. Check knobs may be given as
    keywords (max_gap_ms=5000, isolation=False): they are merged over assert_.
    memory_mib: the VM boots with this much memory (tests are grouped into VMs by it).
    watchdog_timeout_s: sched_ext's watchdog for this test (the scheduler is restarted with
    it; one that cannot take it fails the test saying so), so a stall is caught in seconds.
    monitor: the host monitor's thresholds for this test ({"max_imbalance_ratio": "8"}); the
    host reads them from the source (ktstr.monitor.run) and refuses unknown names."""
    layer = _split_checks(checks, "ktstr_test", _TEST_KEYWORDS)
    if layer is not None:
        assert_ = (assert_ or Assert()).merge(layer)
    for k, v in (("numa_nodes", numa_nodes), ("llcs", llcs), ("cores", cores), ("threads", threads)):
        _positive(k, v, int)
    _positive("duration", duration, (int, float))
    if not isinstance(memory_mib, int) or memory_mib < 0:
        raise TypeError(f"ktstr_test memory_mib={memory_mib!r}: expected MiB as an int (0 = the target's)")
    if not isinstance(watchdog_timeout_s, (int, float)) or not 0 <= watchdog_timeout_s <= WATCHDOG_MAX_S:
        raise TypeError(f"ktstr_test watchdog_timeout_s={watchdog_timeout_s!r}: expected seconds in "
                        f"(0, {WATCHDOG_MAX_S:g}] (the kernel's maximum), or 0 for the default")
    if monitor is not None and not isinstance(monitor, dict):
        raise TypeError(f"ktstr_test monitor={monitor!r}: expected a dict of host-monitor thresholds")
    if scheduler is not None and not isinstance(scheduler, SchedulerDef):
        raise TypeError(f"ktstr_test scheduler={scheduler!r}: expected declare_scheduler(...)")
    if topology:
        from ktstr.topology import Topology

        Topology.parse(topology)  # refuse a malformed shape here, not at boot

    def register(fn: Callable) -> Callable:
        entry = TestEntry(fn.__name__, fn, numa_nodes, llcs, cores, threads, topology, float(duration),
                          memory_mib, float(watchdog_timeout_s), scheduler, assert_)
        REGISTRY[fn.__name__] = entry

        def run_checked(ctx):
            problem = entry_problem(entry, ctx)
            if problem:
                from ktstr.checks.result import AssertResult

                return AssertResult.fail(problem)
            return fn(ctx)

        run_checked.__name__ = fn.__name__
        run_checked.__doc__ = fn.__doc__
        run_checked.__wrapped__ = fn  # type: ignore[attr-defined]
        run_checked.ktstr_entry = entry  # type: ignore[attr-defined]
        return run_checked

    return register


def entry_problem(entry: TestEntry, ctx) -> str:
    """Why this VM cannot run the test as declared ('' when it can)."""
    if entry.scheduler is not None and entry.scheduler.name != ctx.scheduler:
        return (f"test {entry.name} declares scheduler {entry.scheduler.name!r} but the VM runs "
                f"{ctx.scheduler!r}: use it with that scheduler's Bazel target")
    if entry.memory_mib:
        mib = _mem_total_mib()
        # MemTotal is below the VM's RAM by the kernel's own reservations (image, page
        # tables, crash kernel): accept that much, but not a VM of another size.
        if mib is not None and not entry.memory_mib * 0.80 <= mib <= entry.memory_mib:
            return (f"test {entry.name} asks memory_mib={entry.memory_mib} but the VM has "
                    f"{mib} MiB (MemTotal): the host did not boot it with that memory")
    return ""


def _mem_total_mib() -> Optional[int]:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None
