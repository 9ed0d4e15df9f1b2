"""Topology specs and the sysfs view of a guest."""

from pathlib import Path

import pytest

from ktstr.topology import SysTopology, Topology, TopologyError, format_cpulist, parse_cpulist


def test_parse_and_format():
    t = Topology.parse("2n4l2c2t")
    assert (t.numa_nodes, t.llcs, t.cores_per_llc, t.threads_per_core) == (2, 4, 2, 2)
    assert str(t) == "2n4l2c2t" and t.cpus == 16
    assert t.cpu_id(llc=1, core=1, thread=1) == 7
    assert t.llc_of(7) == 1 and t.node_of_llc(3) == 1
    assert t.llc_cpus(1) == [4, 5, 6, 7]


@pytest.mark.parametrize("bad", ["1n2l", "0n1l1c1t", "2n3l1c1t", "x"])
def test_bad_specs_name_the_problem(bad):
    with pytest.raises(TopologyError) as err:
        Topology.parse(bad)
    assert bad in str(err.value) or "0" in str(err.value)


def test_cpulists():
    assert parse_cpulist("0-3,5,7-8\n") == [0, 1, 2, 3, 5, 7, 8]
    assert format_cpulist([8, 7, 0, 1, 2, 3, 5]) == "0-3,5,7-8"


def _fake_sysfs(root, llcs, nodes, smt=1):
    cpus = sorted(c for g in llcs for c in g)
    (root / "cpu").mkdir(parents=True)
    (root / "cpu" / "online").write_text(format_cpulist(cpus) + "\n")
    for g in llcs:
        for c in g:
            d = root / "cpu" / f"cpu{c}"
            for idx, shared in ((0, [c]), (3, g)):
                (d / "cache" / f"index{idx}").mkdir(parents=True)
                (d / "cache" / f"index{idx}" / "shared_cpu_list").write_text(format_cpulist(shared))
            (d / "topology").mkdir()
            first = c - c % smt
            (d / "topology" / "thread_siblings_list").write_text(format_cpulist(range(first, first + smt)))
    for i, n in enumerate(nodes):
        (root / "node" / f"node{i}").mkdir(parents=True)
        (root / "node" / f"node{i}" / "cpulist").write_text(format_cpulist(n))


def test_sysfs_view_of_a_two_node_four_llc_guest(tmp_path):
    llcs = [[0, 1], [2, 3], [4, 5], [6, 7]]
    _fake_sysfs(tmp_path, llcs, [[0, 1, 2, 3], [4, 5, 6, 7]], smt=2)
    topo = SysTopology.read(tmp_path)
    assert topo.llcs() == 4 and topo.numa_nodes() == 2
    assert topo.cpus_in_llc(2) == [4, 5]
    assert topo.cpus_in_node(1) == [4, 5, 6, 7]
    assert topo.shape() == "2n4l1c2t"


def test_sysfs_without_numa_is_one_node(tmp_path):
    _fake_sysfs(tmp_path, [[0, 1, 2]], [])
    topo = SysTopology.read(tmp_path)
    assert topo.numa_nodes() == 1 and topo.shape() == "1n1l3c1t"


def test_presets_match_the_starlark_table_and_parse():
    from ktstr.topology import PRESETS

    starlark: dict = {}
    exec(Path("rules/private/presets.bzl").read_text(), starlark)  # a plain dict literal
    assert starlark["TOPOLOGY_PRESETS"] == PRESETS
    for name, shape in PRESETS.items():
        assert str(Topology.parse(name)) == shape
    assert Topology.parse("numa4-12llc").cpus == 192


def test_apic_ids_and_the_xapic_limit():
    t = Topology.parse("2n6l1c1t")  # 3 LLCs per node: node 1 starts at APIC ID 4
    assert [t.apic_id(c) for c in range(6)] == [0, 1, 2, 4, 5, 6]
    Topology.parse("numa4-12llc").check_xapic()  # 192 CPUs, last APIC ID 223
    with pytest.raises(TopologyError, match=r"topology 1n14l9c2t: its last CPU's APIC ID is 433"):
        Topology.parse("max-cpu").check_xapic()
