"""Facts written both in Starlark and in Python agree (tools/lint/cross_lists.py): the engine
names, the topology grammar, the public API names; and each comparison is shown failing on a
planted mismatch."""

from __future__ import annotations

import itertools

import ktstr
import ktstr.api
from ktstr.host.engines.select import ENGINE_NAMES, ENGINE_SPECS
from ktstr.topology import PRESETS, Topology
from tools.lint import cross_lists, starlark
from tools.lint.source_tree import root

ENGINES_BZL = "rules/private/engines.bzl"
TOPOLOGY_BZL = "rules/private/topology.bzl"


def test_the_engine_names_are_the_same_in_starlark_and_python():
    engines = cross_lists.run_bzl(root(), ENGINES_BZL)["ENGINES"]
    assert cross_lists.list_mismatch(ENGINES_BZL, engines, "select.py ENGINE_NAMES", ENGINE_NAMES) == []


def test_the_engine_capabilities_are_the_same_in_starlark_and_python():
    # Starlark picks each test's runfiles and tags by these lists; Python's EngineSpec fields
    # say the same of each engine.
    bzl = cross_lists.run_bzl(root(), ENGINES_BZL)
    for field in ("needs_kvm", "needs_vmm_library", "needs_l1_host"):
        python = [name for name, spec in ENGINE_SPECS.items() if getattr(spec, field)]
        assert cross_lists.list_mismatch(f"{ENGINES_BZL} {field.upper()}", bzl[field.upper()],
                                         f"EngineSpec.{field}", python) == []


def test_a_planted_engine_mismatch_is_reported():
    assert cross_lists.list_mismatch("a", ["qemu", "vmm"], "b", ["qemu"]) == ["vmm is in a but not in b"]
    assert cross_lists.list_mismatch("a", ["qemu"], "b", ["qemu", "kvm"]) == ["kvm is in b but not in a"]
    assert "another order" in cross_lists.list_mismatch("a", ["qemu", "vmm"], "b", ["vmm", "qemu"])[0]


def test_the_package_exports_what_ktstr_api_exports():
    assert cross_lists.list_mismatch("ktstr._API", sorted(ktstr._API), "ktstr.api.__all__",
                                     sorted(ktstr.api.__all__)) == []
    for name in ktstr.api.__all__:
        assert getattr(ktstr, name) is getattr(ktstr.api, name)


# Shapes on both sides of every rule of the grammar.
SPECS = ["1n1l2c1t", "2n4l4c1t", "4n12l8c2t", "1n14l9c2t", "", "1n2l", "1n1l2c1tx", "x1n1l2c1t", "n1l1c1t",
         "0n1l1c1t", "1n0l1c1t", "1n1l0c1t", "1n1l1c0t", "2n3l1c1t", "1n2l2147483649c1t", "1n16l256c2t",
         "1n1l8192c1t", "1n1l8193c1t", "1n1l-2c1t", "tiny", "1N1L2C1T"]


def _starlark_parse(text=None):
    scope = cross_lists.run_bzl(root(), TOPOLOGY_BZL, text)
    return scope["parse_topology"]


def test_the_starlark_topology_grammar_judges_like_the_python_one():
    specs = SPECS + list(PRESETS) + ["".join(s) for s in itertools.product("12", "n", "123", "l", "1", "c", "12", "t")]
    assert cross_lists.topology_disagreements(_starlark_parse(), Topology.parse, specs) == []


def test_a_planted_grammar_difference_is_reported():
    text = (root() / TOPOLOGY_BZL).read_text()
    planted = text.replace("if llcs % nodes:", "if False:")
    assert planted != text
    found = cross_lists.topology_disagreements(_starlark_parse(planted), Topology.parse, SPECS)
    assert found and all(f.startswith("'2n3l1c1t'") for f in found), found


def test_every_name_loaded_from_defs_bzl_exists():
    """BUILD files, .bzl files, examples/ (not part of this workspace: Bazel does not load it
    here) and the docs' snippets only load names defs.bzl exports."""
    exported = {n for n in starlark.BzlFile(root(), "rules/defs.bzl").assigned if not n.startswith("_")}
    base = root()
    texts = [p for pattern in ("**/BUILD.bazel", "**/*.bzl", "examples/**/BUILD*", "README.md", "docs/*.md")
             for p in base.glob(pattern) if "bazel-" not in p.parts[len(base.parts)]]
    unknown = sorted({f"{p.relative_to(base)}: {name}" for p in texts
                      for name in cross_lists.defs_loads(p.read_text()) if name not in exported})
    assert unknown == []
    assert "ktstr_test" in cross_lists.defs_loads((base / "examples/consumer/sched/BUILD.bazel").read_text())


def test_a_load_of_a_name_defs_bzl_lacks_is_found():
    text = 'load(\n    "@ktstr//rules:defs.bzl",\n    "ktstr_test",\n    shell = "ktstr_shel",\n)\n'
    assert cross_lists.defs_loads(text) == ["ktstr_test", "ktstr_shel"]
    assert cross_lists.defs_loads('load("//rules:defs.bzl", "ktstr_kernel")') == ["ktstr_kernel"]
