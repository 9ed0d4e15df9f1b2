"""The catalogue as data: 81 entries in the original's 11 categories, each building a valid
plan on the shapes it accepts and naming the reason on the ones it does not; profiles."""

import pytest

from ktstr.catalogue import CATALOGUE, profile_name, profiles
from ktstr.catalogue.partition import partition, usable_cpus
from ktstr.catalogue.run import run_entry
from ktstr.checks import Assert
from ktstr.scenario import Ctx
from ktstr.scenario.model import Step
from ktstr.topology import SysTopology


def topo(nodes, llcs, cores):
    per = cores
    cpus = tuple(range(llcs * per))
    llc_groups = tuple(tuple(range(i * per, (i + 1) * per)) for i in range(llcs))
    per_node = llcs // nodes
    node_groups = tuple(tuple(c for g in llc_groups[n * per_node:(n + 1) * per_node] for c in g)
                        for n in range(nodes))
    return SysTopology(cpus, llc_groups, node_groups)


SHAPES = {"1n1l2c": topo(1, 1, 2), "1n2l2c": topo(1, 2, 2), "2n2l2c": topo(2, 2, 2), "1n4l4c": topo(1, 4, 4)}


def test_81_entries_in_11_categories():
    assert len(CATALOGUE) == 81
    assert len({e.category for e in CATALOGUE.values()}) == 11


@pytest.mark.parametrize("shape", SHAPES)
def test_every_entry_builds_or_names_what_it_lacks(shape):
    ctx = Ctx(cgroups=None, topo=SHAPES[shape])
    built = 0
    for e in CATALOGUE.values():
        reason = e.unmet(ctx)
        if reason:
            assert e.name in reason
            continue
        plan = e.build(ctx)
        assert plan.steps and all(isinstance(s, Step) for s in plan.steps), e.name
        built += 1
    assert built >= {"1n1l2c": 60, "1n2l2c": 70, "2n2l2c": 75, "1n4l4c": 75}[shape]


def test_flag_requirements_skip_with_the_reason():
    ctx = Ctx(cgroups=None, topo=SHAPES["1n2l2c"], assert_=Assert())
    r = run_entry(ctx, "cgroup_llc_overflow", flags=())
    assert r.skipped and "requires flag llc, steal" in r.reason
    r = run_entry(ctx, "cgroup_affinity_change", flags=("reject-pin",))
    assert r.skipped and "excludes flag reject-pin" in r.reason
    with pytest.raises(ValueError, match="unknown flag lcc"):
        run_entry(ctx, "cgroup_steady", flags=("lcc",))
    with pytest.raises(KeyError, match="ktstr list --catalogue"):
        run_entry(ctx, "no_such_entry")


def test_profiles_are_flag_subsets_meeting_requirements():
    all_profiles = profiles()
    assert ("steal",) not in all_profiles and ("llc", "steal") in all_profiles
    assert profile_name(()) == "default" and profile_name(("steal", "llc")) == "llc+steal"
    assert all("reject-pin" not in p for p in profiles(excluded=("reject-pin",)))
    assert all({"llc", "steal"} <= set(p) for p in profiles(required=("llc", "steal")))


def test_partitions():
    t = SHAPES["1n2l2c"]  # 4 CPUs, the last reserved: 0-2 usable
    assert usable_cpus(t) == [0, 1, 2]
    assert partition(t, "split_half") == [[0], [1, 2]]
    assert partition(t, "llc_aligned") == [[0, 1], [2]]
    assert partition(t, "split_misaligned") == [[0], [1, 2]]
    assert partition(t, "uneven", 2, 0.75) == [[0, 1], [2]]
    with pytest.raises(ValueError, match="needs 3 LLCs"):
        partition(t, "llc_aligned", 3)


def test_ktstr_list_catalogue_prints_every_entry(capsys):
    from ktstr.cli.main import main
    from ktstr.canned import CURATED

    assert main(["list", "--catalogue"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 + 81 + 1
    assert any(line.startswith("cgroup_llc_overflow ") and "+llc +steal" in line for line in out)
    assert out[-1].startswith("81 catalogue entries; curated (14)") and len(CURATED) == 14


def test_every_entry_failure_is_reported_with_its_entry(monkeypatch):
    # Known failures are the host's business (expectations per finding): the guest reports
    # every failure, prefixed with its entry, and decides nothing about them.
    from ktstr.catalogue import run as catalogue_run
    from ktstr.checks.result import AssertResult

    spread = "claim failed: heavy.spread = 59.31, expected <= 35"
    results = {"cgroup_no_ctrl_imbalance": [spread], "cgroup_steady": []}

    def fake_run_entry(ctx, name, flags=()):
        r = AssertResult()
        for d in results[name]:
            r.add_failure(d)
        return r

    monkeypatch.setattr(catalogue_run, "run_entry", fake_run_entry)
    ctx = Ctx(cgroups=None, topo=SHAPES["1n2l2c"], log=lambda m: None)
    total = catalogue_run.run_entries(ctx, list(results))
    assert total.stats["catalogue.cgroup_no_ctrl_imbalance.status"] == 0.0
    assert total.stats["catalogue.cgroup_steady.status"] == 1.0
    assert not total.passed and total.details == [f"cgroup_no_ctrl_imbalance: {spread}"]
