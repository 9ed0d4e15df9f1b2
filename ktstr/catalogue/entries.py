"""The catalogue: the original ktstr's 81 scenarios (all_scenarios()), by name and category,
each a builder of steps from the guest's topology. Flags are required/excluded as data
(ktstr.catalogue.flags); topology needs are checked before anything starts (a SKIP with the
reason)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ktstr.catalogue.partition import partition, usable_cpus
from ktstr.checks.assertions import Assert, Off
from ktstr.errors import KtstrError
from ktstr.scenario.ctx import Ctx
from ktstr.scenario.model import Backdrop, CgroupDef, CpusetSpec, HoldSpec, Op, Step, Work
from ktstr.workload.placement import AffinityIntent, SchedPolicy
from ktstr.workload.types import WorkType as T


class CatalogueError(KtstrError, ValueError):
    """A catalogue defined inconsistently (an entry defined twice)."""


@dataclass(frozen=True)
class Plan:
    steps: list
    backdrop: Optional[Backdrop] = None


@dataclass(frozen=True)
class Entry:
    name: str
    category: str
    doc: str
    build: Callable[[Ctx], Plan]
    requires: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    min_llcs: int = 1
    min_cpus: int = 1
    min_nodes: int = 1
    assert_: Optional[Assert] = None

    def unmet(self, ctx: Ctx) -> str:
        """Why this guest cannot run the entry ('' when it can)."""
        topo = ctx.topo
        if topo.llcs() < self.min_llcs:
            return f"{self.name} needs {self.min_llcs} LLCs, the guest has {topo.llcs()}"
        if len(usable_cpus(topo)) < self.min_cpus:
            return f"{self.name} needs {self.min_cpus} usable CPUs, the guest has {len(usable_cpus(topo))}"
        if topo.numa_nodes() < self.min_nodes:
            return f"{self.name} needs {self.min_nodes} NUMA nodes, the guest has {topo.numa_nodes()}"
        return ""


def cg(name: str, wt: T = T.SPIN_WAIT, n: int = 2, cpus=None, **params) -> CgroupDef:
    d = CgroupDef(name).workers(n).work(wt, **params)
    return d.cpuset(cpus) if cpus else d


def steady(*defs) -> Plan:
    return Plan([Step(list(defs))])


def half(f: float = 0.5) -> HoldSpec:
    return HoldSpec.frac(f)


def parts(ctx: Ctx, kind: str, n: int = 2, frac: float = 0.0):
    return partition(ctx.topo, kind, n, frac)


CATALOGUE: dict[str, Entry] = {}


def entry(name: str, category: str, doc: str, **kw):
    def add(build: Callable[[Ctx], Plan]) -> Callable[[Ctx], Plan]:
        if name in CATALOGUE:
            raise CatalogueError(f"catalogue entry {name} defined twice")
        CATALOGUE[name] = Entry(name, category, doc, build, **kw)
        return build
    return add


# --- basic -------------------------------------------------------------------------------
@entry("cgroup_steady", "basic", "2 cgroups, equal CPU load, no cpusets")
def _(ctx):
    return steady(cg("cg_0"), cg("cg_1"))


@entry("cgroup_cpuset_llc_steady", "basic", "2 cgroups, one LLC each", min_llcs=2)
def _(ctx):
    a, b = parts(ctx, "llc_aligned")
    return steady(cg("cg_0", cpus=a), cg("cg_1", cpus=b))


@entry("cgroup_cpuset_cross_llc_steady", "basic", "2 cgroups split mid-LLC (cpusets cross LLCs)", min_cpus=2)
def _(ctx):
    a, b = parts(ctx, "split_misaligned")
    return steady(cg("cg_0", cpus=a), cg("cg_1", cpus=b))


# --- cpuset ------------------------------------------------------------------------------
@entry("cgroup_cpuset_overlap_steady", "cpuset", "3 cgroups, cpusets overlapping by half a slice", min_cpus=3)
def _(ctx):
    return steady(*[cg(f"cg_{i}", cpus=c) for i, c in enumerate(parts(ctx, "overlap", 3, 0.5))])


@entry("cgroup_cpuset_apply_midrun", "cpuset", "no cpusets, then disjoint ones mid-run", min_cpus=2)
def _(ctx):
    a, b = parts(ctx, "split_half")
    return Plan([Step([cg("cg_0"), cg("cg_1")], half()),
                 Step([Op.set_cpuset("cg_0", a), Op.set_cpuset("cg_1", b)], half())])


@entry("cgroup_cpuset_clear_midrun", "cpuset", "disjoint cpusets, cleared mid-run", min_cpus=2)
def _(ctx):
    a, b = parts(ctx, "split_half")
    return Plan([Step([cg("cg_0", cpus=a), cg("cg_1", cpus=b)], half()),
                 Step([Op.clear_cpuset("cg_0"), Op.clear_cpuset("cg_1")], half())])


def _resize(ctx) -> Plan:
    cpus = usable_cpus(ctx.topo)
    k = len(cpus) // 2
    small, big = max(1, k // 2), k + (k - max(1, k // 2))
    return Plan([Step([cg("cg_0", cpus=cpus[:k]), cg("cg_1", cpus=cpus[k:])], HoldSpec.frac(1 / 3)),
                 Step([Op.set_cpuset("cg_1", cpus[small:]), Op.set_cpuset("cg_0", cpus[:small])],
                      HoldSpec.frac(1 / 3)),
                 Step([Op.set_cpuset("cg_0", cpus[:big]), Op.set_cpuset("cg_1", cpus[big:] or cpus[-1:])],
                      HoldSpec.frac(1 / 3))])


entry("cgroup_cpuset_resize", "cpuset", "even split, shrink cg_0/grow cg_1, then the reverse", min_cpus=4)(_resize)


@entry("cgroup_cpuset_numa_swap", "cpuset", "node-scoped cpusets swapped mid-run", min_nodes=2)
def _(ctx):
    return Plan([Step([cg("cg_0", cpus=CpusetSpec.node(0)), cg("cg_1", cpus=CpusetSpec.node(1))], half()),
                 Step([Op.swap_cpusets("cg_0", "cg_1")], half())])


@entry("cgroup_cpuset_swap_disjoint", "cpuset", "disjoint cpusets swapped mid-run", min_cpus=2)
def _(ctx):
    a, b = parts(ctx, "split_half")
    return Plan([Step([cg("cg_0", cpus=a), cg("cg_1", T.BURSTY, cpus=b)], half()),
                 Step([Op.swap_cpusets("cg_0", "cg_1")], half())])


# --- stress ------------------------------------------------------------------------------
@entry("cgroup_partial_cpus_steady", "stress", "a third of the CPUs held back, the rest split", min_cpus=3)
def _(ctx):
    a, b = parts(ctx, "holdback", 2, 0.33)
    return steady(cg("cg_0", cpus=a), cg("cg_1", cpus=b))


@entry("cgroup_uneven_steady", "stress", "cg_0 gets 3/4 of the CPUs", min_cpus=2)
def _(ctx):
    a, b = parts(ctx, "uneven", 2, 0.75)
    return steady(cg("cg_0", cpus=a), cg("cg_1", cpus=b))


@entry("cgroup_oversubscribed", "stress", "2 cgroups x 32 Mixed workers")
def _(ctx):
    return steady(cg("cg_0", T.MIXED, 32), cg("cg_1", T.MIXED, 32))


@entry("host_cgroup_contention", "stress", "2 cgroups plus a host worker per CPU outside them")
def _(ctx):
    return Plan([Step([cg("cg_0"), cg("cg_1"),
                       Op.spawn_host(Work(T.SPIN_WAIT, len(ctx.topo.all_cpuset())))])])


@entry("cgroup_per_cpu", "stress", "one cgroup per usable CPU, each pinned to it")
def _(ctx):
    return steady(*[cg(f"cpu_{c}", n=1, cpus=[c]) for c in usable_cpus(ctx.topo)])


@entry("cgroup_dsq_contention", "stress", "bursty workers and pinned spinners on shared CPUs", min_cpus=2)
def _(ctx):
    cpus = usable_cpus(ctx.topo)
    return steady(cg("bursty", T.BURSTY, 4), CgroupDef("pinned").workers(2).pinned(cpus[:1]))


_VARIETY = (T.SPIN_WAIT, T.BURSTY, T.SLEEP_HEAVY, T.YIELD_HEAVY, T.PIPE_PINGPONG)


@entry("cgroup_workload_variety", "stress", "5 cgroups x 5 work types")
def _(ctx):
    return steady(*[cg(f"cg_{i}", wt) for i, wt in enumerate(_VARIETY)])


@entry("cgroup_cpuset_workload_variety", "stress", "5 work types in cpuset-split cgroups", min_cpus=2)
def _(ctx):
    cpus = parts(ctx, "split_half")
    return steady(*[cg(f"cg_{i}", wt, cpus=cpus[i % 2]) for i, wt in enumerate(_VARIETY)])


@entry("cgroup_dynamic_workload_variety", "stress", "work types added and removed mid-run")
def _(ctx):
    return Plan([Step([cg("cg_0", _VARIETY[0]), cg("cg_1", _VARIETY[1])], HoldSpec.frac(1 / 3)),
                 Step([cg("cg_2", _VARIETY[2]), cg("cg_3", _VARIETY[3]), Op.stop_cgroup("cg_0")],
                      HoldSpec.frac(1 / 3)),
                 Step([cg("cg_4", _VARIETY[4]), Op.remove_cgroup("cg_1")], HoldSpec.frac(1 / 3))])


@entry("cgroup_cpuset_cross_llc_race", "stress", "cpusets flipped across LLCs every 100 ms", min_llcs=2)
def _(ctx):
    a, b = parts(ctx, "llc_aligned")
    return Plan([Step([cg("cg_0", cpus=a), cg("cg_1", cpus=b), Op.swap_cpusets("cg_0", "cg_1")],
                      HoldSpec.loop(0.1))])


def _single(name: str, wt: T, n: int = 2, **params):
    return lambda ctx: steady(cg("cg_0", wt, n, **params))


entry("fork_exit_churn", "stress", "fork/exit/wait in a loop")(_single("fork_exit_churn", T.FORK_EXIT))
entry("nice_sweep", "stress", "nice stepped through -20..19")(_single("nice_sweep", T.NICE_SWEEP))
entry("affinity_churn", "stress", "random single-CPU affinity every unit")(
    _single("affinity_churn", T.AFFINITY_CHURN, spin_iters=1024))
entry("policy_churn", "stress", "scheduling policy cycled every unit")(
    _single("policy_churn", T.POLICY_CHURN, spin_iters=1024))
entry("page_fault_churn", "stress", "write faults on a 4 MiB region, dropped each cycle")(
    _single("page_fault_churn", T.PAGE_FAULT_CHURN, region_kb=4096, touches_per_cycle=256, spin_iters=64))
entry("mutex_contention_light", "stress", "4 workers on one futex lock (hold 64, work 1024)")(
    _single("mutex_contention_light", T.MUTEX_CONTENTION, 4, contenders=4, hold_iters=64, work_iters=1024))
entry("mutex_contention_heavy", "stress", "8 workers on one futex lock (hold 1024, work 256)")(
    _single("mutex_contention_heavy", T.MUTEX_CONTENTION, 8, contenders=8, hold_iters=1024, work_iters=256))


# --- affinity ----------------------------------------------------------------------------
@entry("cgroup_affinity_inherit", "affinity", "Mixed workers inheriting their cgroup's CPUs")
def _(ctx):
    return steady(cg("cg_0", T.MIXED), cg("cg_1", T.MIXED))


def _affinity(intent: AffinityIntent):
    def build(ctx):
        a, b = parts(ctx, "split_half")
        return steady(cg("cg_0", cpus=a).affinity(intent), cg("cg_1", cpus=b).affinity(intent))
    return build


entry("cgroup_affinity_random", "affinity", "split cpusets, random half-subset per worker", min_cpus=2)(
    _affinity(AffinityIntent.random_subset()))
entry("cgroup_affinity_spanning", "affinity", "split cpusets, workers asking for every CPU", min_cpus=2)(
    _affinity(AffinityIntent.cross_cgroup()))
entry("cgroup_affinity_pinned", "affinity", "split cpusets, each worker on one CPU", min_cpus=2)(
    _affinity(AffinityIntent.single_cpu()))


@entry("cgroup_cpuset_llc_affinity", "affinity", "LLC-aligned affinity inside an even split",
       requires=("llc",), min_llcs=2)
def _(ctx):
    a, b = parts(ctx, "split_half")
    return steady(cg("cg_0", cpus=a).affinity(AffinityIntent.llc_aligned()),
                  cg("cg_1", cpus=b).affinity(AffinityIntent.llc_aligned()))


@entry("cgroup_affinity_change", "affinity", "affinities re-randomised 4 times", excludes=("reject-pin",),
       min_cpus=2)
def _(ctx):
    cpus = usable_cpus(ctx.topo)
    k = max(1, len(cpus) // 2)
    masks = [cpus[:k], cpus[k:] or cpus, cpus, cpus[-k:]]
    steps = [Step([cg("cg_0"), cg("cg_1")], HoldSpec.frac(0.2))]
    steps += [Step([Op.set_affinity("cg_0", m), Op.set_affinity("cg_1", m)], HoldSpec.frac(0.2)) for m in masks]
    return Plan(steps)


# --- sched_class -------------------------------------------------------------------------
def _policy(policy: SchedPolicy, n_special: int = 2, bursty: bool = False):
    def build(ctx):
        special = cg("special", T.BURSTY if bursty else T.SPIN_WAIT, n_special,
                     **({"burst_ms": 500, "sleep_ms": 250} if bursty else {})).policy(policy)
        return steady(special, cg("normal"))
    return build


entry("sched_batch", "sched_class", "SCHED_BATCH workers beside normal ones")(_policy(SchedPolicy.batch()))
entry("sched_idle", "sched_class", "SCHED_IDLE workers beside normal ones")(_policy(SchedPolicy.idle()))
entry("sched_fifo", "sched_class", "1 FIFO(1) Bursty 500/250 worker beside normal ones")(
    _policy(SchedPolicy.fifo(1), 1, True))
entry("sched_rr", "sched_class", "2 RR(1) Bursty 500/250 workers beside normal ones")(
    _policy(SchedPolicy.rr(1), 2, True))


@entry("sched_mixed", "sched_class", "OTHER, BATCH and IDLE groups in one cgroup",
       assert_=Assert(max_spread_pct=Off("OTHER, BATCH and IDLE workers in one cgroup get unequal "
                                         "shares by design")))
def _(ctx):
    d = (cg("cg_0", n=1).with_work(Work(T.SPIN_WAIT, 1, policy=SchedPolicy.batch()))
         .with_work(Work(T.SPIN_WAIT, 1, policy=SchedPolicy.idle())))
    return steady(d)


entry("cgroup_pipe_io", "sched_class", "pipe ping-pong pairs in 2 cgroups")(
    lambda ctx: steady(cg("cg_0", T.PIPE_PINGPONG), cg("cg_1", T.PIPE_PINGPONG)))


# --- advanced ----------------------------------------------------------------------------
def _imbalance(heavy: int = 8, light: int = 1, wt_heavy: T = T.SPIN_WAIT, wt_light: T = T.SPIN_WAIT,
               kind: str = "none", frac: float = 0.0, shift: bool = False):
    def build(ctx):
        a, b = parts(ctx, kind, 2, frac)
        hv, lt = cg("heavy", wt_heavy, heavy, cpus=a), cg("light", wt_light, light, cpus=b)
        if not shift:
            return steady(hv, lt)
        return Plan([Step([hv, lt], half()), Step([Op.stop_cgroup("heavy"), cg("late", wt_heavy, heavy, cpus=b)],
                                                half())])
    return build


entry("cgroup_idle_overloaded", "advanced", "one cgroup overloaded, the other idle-ish", requires=("borrow",))(
    _imbalance(8, 1, wt_light=T.BURSTY))
entry("cgroup_all_loaded", "advanced", "every cgroup loaded beyond its CPUs", requires=("borrow",))(
    _imbalance(6, 6))
entry("cgroup_llc_overflow", "advanced", "one LLC's cgroup overflowing", requires=("llc", "steal"),
      min_llcs=2)(_imbalance(8, 1, kind="llc_aligned"))
entry("cgroup_load_imbalance", "advanced", "8 vs 1 workers", requires=("rebal",))(
    _imbalance(8, 1))
entry("cgroup_exhaust_reuse", "advanced", "a cgroup's workers stopped, a new cgroup takes over")(
    _imbalance(4, 1, shift=True))
entry("cgroup_cpuset_workload_imbalance", "advanced", "8 vs 1 workers in split cpusets", min_cpus=2)(
    _imbalance(8, 1, kind="split_half"))
entry("cgroup_cpuset_load_shift", "advanced", "load moves from one cpuset to the other", min_cpus=2)(
    _imbalance(6, 1, kind="split_half", shift=True))


@entry("cgroup_add_load_imbalance", "advanced", "a heavy cgroup added mid-run")
def _(ctx):
    return Plan([Step([cg("cg_0"), cg("cg_1")], half()), Step([cg("heavy", n=8)], half())])


entry("cgroup_imbalance_mixed_workload", "advanced", "heavy spinners vs light bursty/IO")(
    _imbalance(8, 2, wt_light=T.SLEEP_HEAVY))


@entry("cgroup_multicpu_pin", "advanced", "workers pinned to 2-CPU subsets", min_cpus=2)
def _(ctx):
    cpus = usable_cpus(ctx.topo)
    return steady(CgroupDef("cg_0").workers(4).pinned(cpus[:2]), cg("cg_1"))


@entry("cgroup_no_ctrl_task_migration", "advanced", "tasks moved between cgroups mid-run")
def _(ctx):
    return Plan([Step([cg("cg_0", n=4), Op.add_cgroup("cg_1")], half()), Step([Op.move_tasks("cg_0", "cg_1")], half())])


@entry("cgroup_cpuset_change_imbalance", "advanced", "imbalanced cgroups whose cpusets change", min_cpus=2)
def _(ctx):
    a, b = parts(ctx, "split_half")
    return Plan([Step([cg("heavy", n=6, cpus=a), cg("light", n=1, cpus=b)], half()),
                 Step([Op.swap_cpusets("heavy", "light")], half())])


@entry("cgroup_load_oscillation", "advanced", "a cgroup's load stopped and restarted every 400 ms")
def _(ctx):
    return Plan([Step([cg("steady"), cg("osc", n=4), Op.stop_cgroup("osc"), Op.spawn(cg("osc", n=4))],
                      HoldSpec.loop(0.4))])


@entry("nested_cgroup_no_ctrl", "advanced", "nested cgroups without cpusets")
def _(ctx):
    return steady(cg("cg_0/sub_a"), cg("cg_0/sub_b"), cg("cg_1/sub_a"))


entry("cgroup_io_compute_imbalance", "advanced", "IO-bound vs compute-bound cgroups")(
    _imbalance(4, 4, wt_light=T.SLEEP_HEAVY))


@entry("cgroup_4way_load_imbalance", "advanced", "4 cgroups with 1, 2, 4 and 8 workers")
def _(ctx):
    return steady(*[cg(f"cg_{i}", n=n) for i, n in enumerate((1, 2, 4, 8))])


entry("cgroup_cpuset_overlap_imbalance", "advanced", "imbalance over overlapping cpusets",
      requires=("borrow",), min_cpus=2)(_imbalance(6, 1, kind="overlap", frac=0.5))
entry("cgroup_cpuset_overlap_load_imbalance", "advanced", "heavy overlap imbalance", requires=("rebal",),
      min_cpus=2)(_imbalance(8, 2, kind="overlap", frac=0.5))
entry("cgroup_bursty_imbalance", "advanced", "bursty heavy vs spinning light", requires=("borrow",))(
    _imbalance(6, 1, wt_heavy=T.BURSTY))
entry("cgroup_bursty_load_shift", "advanced", "bursty load moving between cgroups", requires=("rebal",))(
    _imbalance(6, 1, wt_heavy=T.BURSTY, shift=True))


# --- stall -------------------------------------------------------------------------------
# 4 workers per CPU: the point is that none is left behind (starvation and gap checks stay);
# off-CPU shares of so many workers over a short run are no fairness measure.
_OVERLOADED = Assert(max_spread_pct=Off("4 workers per CPU over a short run: their off-CPU shares "
                                        "are no fairness measure (starvation and gaps are checked)"))
entry("stall_detect", "stall", "one heavily overloaded cgroup (the scheduler must keep everyone running)",
      assert_=_OVERLOADED)(
    lambda ctx: steady(cg("overloaded", n=4 * len(ctx.topo.all_cpuset()))))


@entry("stall_recovery", "stall", "overload, drop to nothing, overload again: no task left behind "
       "(the original also restarts the scheduler; here the agent restarts it only between tests)",
       assert_=_OVERLOADED)
def _(ctx):
    n = 4 * len(ctx.topo.all_cpuset())
    return Plan([Step([cg("wave_0", n=n)], HoldSpec.frac(0.4)), Step([Op.stop_cgroup("wave_0")], HoldSpec.frac(0.2)),
                 Step([cg("wave_1", n=n)], HoldSpec.frac(0.4))])


# --- dynamic -----------------------------------------------------------------------------
@entry("cgroup_add_midrun", "dynamic", "2 cgroups, then 2 more mid-run")
def _(ctx):
    return Plan([Step([cg("cg_0"), cg("cg_1")], half()), Step([cg("cg_2"), cg("cg_3")], half())])


@entry("cgroup_remove_midrun", "dynamic", "4 cgroups, the second half removed mid-run")
def _(ctx):
    return Plan([Step([cg(f"cg_{i}") for i in range(4)], half()),
                 Step([Op.remove_cgroup("cg_2"), Op.remove_cgroup("cg_3")], half())])


@entry("cgroup_rapid_churn", "dynamic", "a loaded cgroup removed and created again every 300 ms")
def _(ctx):
    return Plan([Step([cg("steady"), cg("churn", n=1), Op.remove_cgroup("churn"), Op.spawn(cg("churn", n=1))],
                      HoldSpec.loop(0.3))])


# --- nested ------------------------------------------------------------------------------
def _nested_steady(ctx):
    return steady(cg("cg_0/sub_a"), cg("cg_0/sub_b"), cg("cg_1/sub_b"), cg("cg_1/sub_a/deep"))


def _nested_move(ctx):
    return Plan([Step([cg("cg_0/sub_a", n=2), Op.add_cgroup("cg_1/sub_b")], HoldSpec.frac(0.25)),
                 Step([Op.move_tasks("cg_0/sub_a", "cg_0")], HoldSpec.frac(0.25)),
                 Step([Op.move_tasks("cg_0", "cg_1/sub_b")], HoldSpec.frac(0.25)),
                 Step([Op.move_tasks("cg_1/sub_b", "cg_1")], HoldSpec.frac(0.25))])


entry("nested_cgroup_steady", "nested", "leaf workers at depths 2 and 3")(_nested_steady)
entry("nested_cgroup_task_move", "nested", "tasks moved sub -> parent -> other hierarchy -> parent")(_nested_move)


@entry("nested_cgroup_rapid_churn", "nested", "a loaded nested cgroup removed and created again every 300 ms")
def _(ctx):
    churn = cg("cg_0/churn", n=1)
    return Plan([Step([cg("cg_0/steady"), churn, Op.remove_cgroup("cg_0/churn"), Op.spawn(churn)],
                      HoldSpec.loop(0.3))])


@entry("nested_cgroup_cpuset", "nested", "nested cgroups with their own cpusets", min_cpus=2)
def _(ctx):
    a, b = parts(ctx, "split_half")
    return steady(cg("cg_0/sub_a", cpus=a), cg("cg_0/sub_b", cpus=b))


# --- interaction -------------------------------------------------------------------------
entry("cgroup_cpuset_imbalance_combined", "interaction", "imbalance in split cpusets plus churn", min_cpus=2)(
    _imbalance(6, 1, kind="split_half", shift=True))
entry("cgroup_cpuset_overlap_imbalance_combined", "interaction", "imbalance over overlapping cpusets, shifting",
      min_cpus=2)(_imbalance(6, 1, kind="overlap", frac=0.5, shift=True))
entry("cgroup_no_ctrl_imbalance", "interaction", "imbalance without cpusets")(
    _imbalance(6, 1))


@entry("cgroup_no_ctrl_cpuset_change", "interaction", "cpusets applied to cgroups that had none", min_cpus=2)
def _(ctx):
    a, b = parts(ctx, "split_half")
    return Plan([Step([cg("cg_0", n=4), cg("cg_1")], half()),
                 Step([Op.set_cpuset("cg_0", a), Op.set_cpuset("cg_1", b)], half())])


entry("cgroup_no_ctrl_load_imbalance", "interaction", "load shifting without cpusets")(
    _imbalance(6, 1, shift=True))


@entry("cgroup_cpuset_multicpu_pin", "interaction", "2-CPU pins inside a cpuset", min_cpus=4)
def _(ctx):
    a, b = parts(ctx, "split_half")
    return steady(CgroupDef("cg_0").workers(4).cpuset(a).pinned(a[:2]), cg("cg_1", cpus=b))


@entry("cgroup_cpuset_add_remove", "interaction", "cpuset cgroups added and removed", min_cpus=2)
def _(ctx):
    a, b = parts(ctx, "split_half")
    return Plan([Step([cg("cg_0", cpus=a)], HoldSpec.frac(1 / 3)), Step([cg("cg_1", cpus=b)], HoldSpec.frac(1 / 3)),
                 Step([Op.remove_cgroup("cg_0")], HoldSpec.frac(1 / 3))])


@entry("cgroup_add_during_imbalance", "interaction", "a cgroup added while others are imbalanced")
def _(ctx):
    return Plan([Step([cg("heavy", n=6), cg("light", n=1)], half()), Step([cg("added")], half())])


@entry("nested_cgroup_imbalance", "interaction", "imbalance between nested siblings")
def _(ctx):
    return steady(cg("cg_0/heavy", n=6), cg("cg_0/light", n=1), cg("cg_1/sub", n=2))


# --- performance -------------------------------------------------------------------------
entry("cache_pressure_imbalance", "performance", "cache-heavy vs spinning cgroups")(
    _imbalance(4, 2, wt_heavy=T.CACHE_PRESSURE))
entry("cache_yield_wake_affine", "performance", "cache passes then yields, 2 cgroups")(
    lambda ctx: steady(cg("cg_0", T.CACHE_YIELD), cg("cg_1", T.CACHE_YIELD)))
entry("cache_pipe_io_compute_imbalance", "performance", "cache+pipe pairs vs compute")(
    _imbalance(2, 4, wt_heavy=T.CACHE_PIPE))
# A messenger spins while its receivers sleep: their off-CPU shares differ by design.
_ROLES = Assert(max_spread_pct=Off("a messenger spins while its receivers sleep: their off-CPU "
                                   "shares differ by design"))
entry("fan_out_wake", "performance", "a messenger FUTEX_WAKEs 4 receivers", assert_=_ROLES)(
    lambda ctx: steady(cg("cg_0", T.FUTEX_FAN_OUT, 5, fan_out=4)))
entry("fan_out_compute", "performance", "a messenger wakes 4 workers that sleep and multiply matrices",
      assert_=_ROLES)(
    lambda ctx: steady(cg("cg_0", T.FAN_OUT_COMPUTE, 5, fan_out=4)))
