"""Scenario planning: cpusets resolved against a topology, builders, steps, hold times."""

import pytest

from ktstr.scenario import CgroupDef, CgroupManager, CpusetSpec, HoldSpec, Op, Step
from ktstr.topology import SysTopology
from ktstr.workload import WorkType

TOPO = SysTopology(cpus=tuple(range(8)), llc_groups=((0, 1, 2, 3), (4, 5, 6, 7)),
                   node_groups=((0, 1, 2, 3, 4, 5, 6, 7),))


def test_cpuset_specs_resolve_against_the_topology():
    assert CpusetSpec.all().resolve(TOPO) == list(range(8))
    assert CpusetSpec.llc(1).resolve(TOPO) == [4, 5, 6, 7]
    assert CpusetSpec.split(0, 3).resolve(TOPO) == [0, 1]
    assert CpusetSpec.split(2, 3).resolve(TOPO) == [5, 6, 7]
    assert CpusetSpec.cpus(3, 1).resolve(TOPO) == [1, 3]


def test_bad_cpusets_name_the_problem():
    with pytest.raises(ValueError, match=r"cpus \[9\] do not exist"):
        CpusetSpec.cpus(9).resolve(TOPO)
    with pytest.raises(ValueError, match="cannot split 8 cpus into 9"):
        CpusetSpec.split(0, 9).resolve(TOPO)


def test_cgroup_def_builder_is_immutable():
    base = CgroupDef("cg_0")
    d = base.workers(4).work("yield-heavy").cpuset([0, 1]).nice(5)
    assert base.num_workers == 2 and d.num_workers == 4
    assert d.work_type is WorkType.YIELD_HEAVY and d.nice_value == 5
    assert d.cpuset_spec.resolve(TOPO) == [0, 1]


def test_unknown_work_type_lists_the_valid_ones():
    with pytest.raises(ValueError, match="spin_wait"):
        CgroupDef("x").work("spinny")


def test_steps_turn_defs_into_spawn_ops_and_check_types():
    s = Step([CgroupDef("a"), Op.stop_cgroup("a")], HoldSpec.secs(0.5))
    assert [o.kind for o in s.ops] == ["spawn", "stop_cgroup"]
    with pytest.raises(TypeError):
        Step(["not an op"])


def test_hold_specs():
    assert HoldSpec.frac(0.25).resolve(2.0) == 0.5
    assert HoldSpec.secs(1.5).resolve(10.0) == 1.5
    with pytest.raises(ValueError):
        HoldSpec.frac(1.5)


def test_cgroup_manager_on_a_cgroup2_like_tree(tmp_path):
    # Real cgroup v2 runs in the VM (//sched/...); here the file protocol is checked.
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    mgr = CgroupManager(parent="ktstr", root=tmp_path)
    (tmp_path / "ktstr").mkdir()
    (tmp_path / "ktstr" / "cgroup.controllers").write_text("cpuset cpu\n")
    mgr.setup()
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+cpuset +cpu"
    p = mgr.create("cg_0")
    mgr.set_cpuset("cg_0", [0, 1, 2, 5])
    assert (p / "cpuset.cpus").read_text() == "0-2,5"
    mgr.set_cpuset("cg_0", None)
    assert (p / "cpuset.cpus").read_text() == ""
    (p / "cpuset.cpus").unlink()
    mgr.remove("cg_0")
    assert not p.exists() and mgr.created == []


def test_range_and_overlap_cpusets():
    assert CpusetSpec.range(0, 0.5).resolve(TOPO) == [0, 1, 2, 3]
    assert CpusetSpec.range(0.25, 1.0).resolve(TOPO) == [2, 3, 4, 5, 6, 7]
    # 8 CPUs in 2 slices of 4, each widened by half a slice into its neighbour.
    assert CpusetSpec.overlap(0, 2, 0.5).resolve(TOPO) == [0, 1, 2, 3, 4, 5]
    assert CpusetSpec.overlap(1, 2, 0.5).resolve(TOPO) == [2, 3, 4, 5, 6, 7]
    assert CpusetSpec.overlap(1, 2, 0.0).resolve(TOPO) == CpusetSpec.split(1, 2).resolve(TOPO)
    with pytest.raises(ValueError, match="need 0 <= start < end <= 1"):
        CpusetSpec.range(0.5, 0.5)
    with pytest.raises(ValueError, match=r"part must be in 0..1"):
        CpusetSpec.overlap(2, 2, 0.1).resolve(TOPO)


def _fake_cgroup_tree(root):
    """A cgroup-v2-like file tree with a set-up manager whose parent is `ktstr`."""
    (root / "cgroup.controllers").write_text("cpuset cpu\n")
    (root / "cgroup.subtree_control").write_text("")
    (root / "ktstr").mkdir()
    (root / "ktstr" / "cgroup.controllers").write_text("cpuset cpu\n")
    mgr = CgroupManager(parent="ktstr", root=root)
    mgr.setup()
    return mgr


def test_swap_cpusets_exchanges_the_files(tmp_path):
    from ktstr.scenario.ctx import Ctx
    from ktstr.scenario.execute import ScenarioRun

    mgr = _fake_cgroup_tree(tmp_path)
    run = ScenarioRun(Ctx(cgroups=mgr, topo=TOPO))
    for op in (Op.add_cgroup("a"), Op.add_cgroup("b"), Op.set_cpuset("a", CpusetSpec.llc(0)),
               Op.set_cpuset("b", [6, 7]), Op.swap_cpusets("a", "b")):
        run.apply(op)
    assert (tmp_path / "ktstr/a/cpuset.cpus").read_text() == "6-7"
    assert (tmp_path / "ktstr/b/cpuset.cpus").read_text() == "0-3"
    with pytest.raises(KeyError, match="no cgroup 'c'"):
        run.apply(Op.swap_cpusets("a", "c"))


def test_nested_cgroups_get_parents_and_cpuset_delegation(tmp_path):
    mgr = _fake_cgroup_tree(tmp_path)
    mgr.create("cg_0/sub_a/deep")
    assert mgr.created == ["cg_0", "cg_0/sub_a", "cg_0/sub_a/deep"]
    for sub in ("cg_0", "cg_0/sub_a"):
        (tmp_path / "ktstr" / sub / "cgroup.controllers").write_text("cpuset cpu\n")
        (tmp_path / "ktstr" / sub / "cgroup.subtree_control").write_text("")
    mgr.set_cpuset("cg_0/sub_a/deep", [1])
    assert (tmp_path / "ktstr" / "cg_0" / "cgroup.subtree_control").read_text() == "+cpuset +cpu"
    assert (tmp_path / "ktstr" / "cg_0/sub_a/deep" / "cpuset.cpus").read_text() == "1"
    with pytest.raises(Exception, match="bad cgroup name"):
        mgr.create("cg_0/../x")


def test_work_groups_refuse_parameters_their_type_does_not_read():
    from ktstr.scenario.model import Work

    d = CgroupDef("cg").work("cache_yield", cache_kb=64).with_work(Work(WorkType.BURSTY, 1))
    assert [w.work_type for w in d.works] == [WorkType.CACHE_YIELD, WorkType.BURSTY]
    assert d.works[0].config().cache_kb == 64
    with pytest.raises(ValueError, match="bursty takes no parameter fan_out"):
        CgroupDef("cg").work("bursty", fan_out=2)
    assert str(CgroupDef("cg").policy("fifo:5").works[0].policy) == "fifo:5"


def test_loop_hold():
    h = HoldSpec.loop(0.2, 0.5)
    assert h.loop_s == 0.2 and h.resolve(2.0) == 1.0
    with pytest.raises(ValueError, match="interval must be > 0"):
        HoldSpec.loop(0)
