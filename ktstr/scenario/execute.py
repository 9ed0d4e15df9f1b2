"""Run declarative scenarios: apply each step's ops, hold, collect, judge."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

from ktstr.checks.result import AssertResult
from ktstr.checks.stats import CgroupStats
from ktstr.scenario.ctx import Ctx
from ktstr.scenario.model import Backdrop, CgroupDef, HoldSpec, Op, Step, Work
from ktstr.scenario.payload_run import PayloadRun
from ktstr.workload import WorkerReport, WorkloadHandle

HOST = "host"  # the name SpawnHost workers are judged under
PAYLOAD_WAIT_S = 600.0


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
        self.payloads: dict[str, PayloadRun] = {}
        self.extra = AssertResult()  # payload verdicts and metrics

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
        for work in d.works:
            self._spawn_work(d.name, work, g, move=True)

    def _spawn_work(self, name: str, work: Work, g: _Running, move: bool) -> None:
        cfg = work.config()
        cfg.name = name.replace("/", ".")
        cfg.cpus = work.pinned.resolve(self.ctx.topo) if work.pinned else None
        cfg.pool = g.cpuset or self.ctx.topo.all_cpuset()
        cfg.llc_groups = self.ctx.topo.llc_groups
        handle = WorkloadHandle.spawn(cfg)
        try:
            if move:
                self.ctx.cgroups.move_tasks(name, handle.pids)
        except Exception:
            handle.kill()
            raise
        handle.start()
        g.handles.append(handle)

    def _op_spawn_host(self, op: Op) -> None:
        g = self.groups.setdefault(HOST, _Running(restricted=False))
        self._spawn_work(HOST, op.work, g, move=False)

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
        for name in [n for n in self.groups if n == op.cgroup or n.startswith(op.cgroup + "/")]:
            self._op_stop_cgroup(Op.stop_cgroup(name))
        for p in [p for p in self.payloads.values() if p.cgroup == op.cgroup and p.running]:
            self._finish_payload(p, kill=True)
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

    # --- payloads ------------------------------------------------------------------
    def _op_run_payload(self, op: Op) -> None:
        name = op.payload.name
        if name in self.payloads and self.payloads[name].running:
            raise KeyError(f"run_payload: payload {name!r} is already running")
        move = None
        if op.cgroup:
            self.ctx.cgroups.create(op.cgroup)
            self.groups.setdefault(op.cgroup, _Running(restricted=False))
            move = lambda pid: self.ctx.cgroups.move_tasks(op.cgroup, [pid])  # noqa: E731
        self.payloads[name] = PayloadRun.start(op.payload, op.cgroup, move)

    def _payload(self, op: Op) -> PayloadRun:
        if op.target not in self.payloads:
            raise KeyError(f"{op.kind}: no payload {op.target!r} was started (started: "
                           f"{', '.join(self.payloads) or 'none'})")
        return self.payloads[op.target]

    def _finish_payload(self, p: PayloadRun, kill: bool) -> None:
        if kill:
            p.kill()
        else:
            p.wait(PAYLOAD_WAIT_S)
        self.extra = self.extra.merge(p.evaluate())
        self.ctx.log(f"payload {p.payload.name}: exit {p.exit_code}"
                     f"{' (killed)' if p.killed else ''}, metrics {p.metrics()}")

    def _op_wait_payload(self, op: Op) -> None:
        self._finish_payload(self._payload(op), kill=False)

    def _op_kill_payload(self, op: Op) -> None:
        self._finish_payload(self._payload(op), kill=True)

    # --- running -------------------------------------------------------------------
    def hold(self, seconds: float, loop_ops: Sequence[Op] = (), interval_s: Optional[float] = None) -> Optional[str]:
        """Sleep, watching the scheduler (and applying loop_ops every interval_s, first
        after one interval); returns the scheduler's problem if it went away."""
        end = time.monotonic() + seconds
        next_loop = time.monotonic() + interval_s if interval_s else None
        while True:
            problem = self.ctx.scheduler_problem()
            now = time.monotonic()
            left = end - now
            if problem or left <= 0:
                return problem
            # The last application leaves at least one interval: a cgroup it replaces lives it.
            if next_loop is not None and now >= next_loop and left >= interval_s:
                for op in loop_ops:
                    self.apply(op)
                next_loop += interval_s
            wait = min(0.1, left) if next_loop is None else min(0.1, left, max(0.0, next_loop - now))
            time.sleep(wait)

    def run_step(self, step: Step) -> Optional[str]:
        duration = step.hold.resolve(self.ctx.duration)
        if step.hold.loop_s is None:
            for op in step.ops:
                self.apply(op)
            return self.hold(duration)
        once, again = step.loop_parts()
        for op in once:
            self.apply(op)
        return self.hold(duration, again, step.hold.loop_s)

    def finish(self) -> AssertResult:
        for p in list(self.payloads.values()):
            if p.running:
                self._finish_payload(p, kill=True)  # a payload nobody waited for ends with the scenario
        for g in self.groups.values():
            for h in g.handles:
                g.reports += h.stop_and_collect()
            g.handles = []
        nodes = {c: i for i, group in enumerate(self.ctx.topo.node_groups) for c in group}
        judged = []
        for name, g in self.groups.items():
            if not g.reports:
                continue
            cpuset = g.cpusets_seen if g.restricted and g.cpusets_seen else None
            judged.append((CgroupStats.from_reports(name, g.reports, nodes), cpuset))
        return self.ctx.assert_.check(judged).merge(self.extra)

    def kill_all(self) -> None:
        for p in self.payloads.values():
            if p.running:
                p.kill()
        for g in self.groups.values():
            for h in g.handles:
                h.kill()
            g.handles = []


def execute_steps(ctx: Ctx, steps: Sequence[Step], backdrop: Optional[Backdrop] = None) -> AssertResult:
    run = ScenarioRun(ctx)
    ctx.cgroups.setup()
    problem = None
    try:
        if backdrop:
            for d in backdrop.defs:
                run.apply(Op.spawn(d))
            for op in backdrop.ops:
                run.apply(op)
            for p in backdrop.payloads:
                run.apply(Op.run_payload(p))
        for step in steps:
            problem = run.run_step(step)
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
