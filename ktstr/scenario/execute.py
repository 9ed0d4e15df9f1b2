"""Run declarative scenarios: apply each step's ops, hold, collect, judge."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

from ktstr.checks.result import AssertResult
from ktstr.checks.stats import CgroupStats
from ktstr.scenario.ctx import Ctx
from ktstr.scenario.model import Backdrop, CgroupDef, HoldSpec, Op, Step
from ktstr.workload import WorkerReport, WorkloadConfig, WorkloadHandle


@dataclass
class _Running:
    cpuset: Optional[list[int]] = None
    handles: list[WorkloadHandle] = field(default_factory=list)
    reports: list[WorkerReport] = field(default_factory=list)
    cpusets_seen: list[int] = field(default_factory=list)  # union over the run (for isolation)
    restricted: bool = True  # False once any cpuset change widened it to "all"


class ScenarioRun:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.groups: dict[str, _Running] = {}

    # --- ops ---------------------------------------------------------------------
    def apply(self, op: Op) -> None:
        getattr(self, "_op_" + op.kind)(op)

    def _op_add_cgroup(self, op: Op) -> None:
        self.ctx.cgroups.create(op.cgroup)
        self.groups.setdefault(op.cgroup, _Running(restricted=False))

    def _op_spawn(self, op: Op) -> None:
        d: CgroupDef = op.cgroup_def
        self.ctx.cgroups.create(d.name)
        g = self.groups.setdefault(d.name, _Running(restricted=False))
        if d.cpuset_spec is not None:
            self._set_cpuset(d.name, d.cpuset_spec.resolve(self.ctx.topo))
        cfg = WorkloadConfig(num_workers=d.num_workers, work_type=d.work_type, nice=d.nice_value,
                             cpus=d.affinity.resolve(self.ctx.topo) if d.affinity else None,
                             name=d.name)
        handle = WorkloadHandle.spawn(cfg)
        try:
            self.ctx.cgroups.move_tasks(d.name, handle.pids)
        except Exception:
            handle.kill()
            raise
        handle.start()
        g.handles.append(handle)

    def _set_cpuset(self, name: str, cpus: Optional[list[int]]) -> None:
        self.ctx.cgroups.set_cpuset(name, cpus)
        g = self.groups.setdefault(name, _Running(restricted=False))
        g.cpuset = cpus
        if cpus is None:
            g.restricted = False
        else:
            if not g.handles and not g.reports:
                g.restricted = True
            g.cpusets_seen = sorted(set(g.cpusets_seen) | set(cpus))

    def _op_set_cpuset(self, op: Op) -> None:
        self._set_cpuset(op.cgroup, op.cpuset.resolve(self.ctx.topo))

    def _op_clear_cpuset(self, op: Op) -> None:
        self._set_cpuset(op.cgroup, None)

    def _op_swap_cpusets(self, op: Op) -> None:
        for name in (op.cgroup, op.target):
            if name not in self.groups:
                raise KeyError(f"swap_cpusets: no cgroup {name!r} in this scenario")
        a, b = self.groups[op.cgroup].cpuset, self.groups[op.target].cpuset
        # Widen first, then narrow: a cpuset write must never leave a cgroup's tasks with
        # no CPU, and cpuset v2 accepts any subset of the parent's CPUs in either order.
        self._set_cpuset(op.cgroup, None)
        self._set_cpuset(op.target, a)
        self._set_cpuset(op.cgroup, b)

    def _op_stop_cgroup(self, op: Op) -> None:
        g = self.groups.get(op.cgroup)
        if g is None:
            raise KeyError(f"stop_cgroup: no cgroup {op.cgroup!r} in this scenario")
        for h in g.handles:
            g.reports += h.stop_and_collect()
        g.handles = []

    def _op_remove_cgroup(self, op: Op) -> None:
        self._op_stop_cgroup(op)
        self.ctx.cgroups.remove(op.cgroup)

    def _op_move_tasks(self, op: Op) -> None:
        src, dst = self.groups[op.cgroup], self.groups.setdefault(op.target, _Running(restricted=False))
        self.ctx.cgroups.create(op.target)
        for h in src.handles:
            self.ctx.cgroups.move_tasks(op.target, h.pids)
        dst.handles += src.handles
        src.handles = []
        dst.restricted = False  # workers now carry history from another cpuset

    def _pids(self, name: str) -> list[int]:
        return [p for h in self.groups[name].handles for p in h.pids]

    def _op_set_nice(self, op: Op) -> None:
        for pid in self._pids(op.cgroup):
            os.setpriority(os.PRIO_PROCESS, pid, op.value)

    def _op_set_affinity(self, op: Op) -> None:
        cpus = op.cpuset.resolve(self.ctx.topo)
        for pid in self._pids(op.cgroup):
            os.sched_setaffinity(pid, cpus)

    def _op_set_policy(self, op: Op) -> None:
        for pid in self._pids(op.cgroup):
            os.sched_setscheduler(pid, op.value, os.sched_param(0))

    # --- running -------------------------------------------------------------------
    def hold(self, seconds: float) -> Optional[str]:
        """Sleep, watching the scheduler; returns its problem if it went away."""
        end = time.monotonic() + seconds
        while True:
            problem = self.ctx.scheduler_problem()
            left = end - time.monotonic()
            if problem or left <= 0:
                return problem
            time.sleep(min(0.1, left))

    def finish(self) -> AssertResult:
        for g in self.groups.values():
            for h in g.handles:
                g.reports += h.stop_and_collect()
            g.handles = []
        judged = []
        for name, g in self.groups.items():
            if not g.reports:
                continue
            cpuset = g.cpusets_seen if g.restricted and g.cpusets_seen else None
            judged.append((CgroupStats.from_reports(name, g.reports), cpuset))
        return self.ctx.assert_.check(judged)

    def kill_all(self) -> None:
        for g in self.groups.values():
            for h in g.handles:
                h.kill()
            g.handles = []


def execute_steps(ctx: Ctx, steps: Sequence[Step], backdrop: Optional[Backdrop] = None) -> AssertResult:
    run = ScenarioRun(ctx)
    ctx.cgroups.setup()
    problem = None
    try:
        for d in (backdrop.defs if backdrop else ()):
            run.apply(Op.spawn(d))
        for step in steps:
            for op in step.ops:
                run.apply(op)
            problem = run.hold(step.hold.resolve(ctx.duration))
            if problem:
                break
        result = run.finish()
    finally:
        run.kill_all()
        ctx.cgroups.cleanup()
    if problem and ctx.assert_.scheduler_attached:
        result.add_failure(f"scheduler died during the scenario: {problem}")
    return result


def execute_defs(ctx: Ctx, defs: Sequence[CgroupDef], hold: Optional[HoldSpec] = None) -> AssertResult:
    return execute_steps(ctx, [Step(defs, hold or HoldSpec.frac(1.0))])
