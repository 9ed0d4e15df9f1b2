"""The Starlark gate (tools/lint/starlark.py) over rules/, and the gate's own tests: each
check is shown failing on a planted violation."""

from __future__ import annotations

from pathlib import Path

from tools.lint import starlark
from tools.lint.source_tree import root


def _all(check) -> list[str]:
    tree = starlark.Tree(root())
    return sorted({str(f) for rel in starlark.bzl_files(root()) for f in check(tree, rel)})


# Left without doc on purpose, each with its reason; a stale entry fails the test too.
UNDOCUMENTED = {
    # Any edit of python_repositories.bzl changes the repository rules' definition digest, so
    # every checkout would refetch @ktstr_pip (a pip install) and @ktstr_python for a comment.
    # Document it with the next change that needs a refetch anyway.
    "rules/private/python_repositories.bzl": ["'requirements'"],
}


def test_every_public_attribute_has_a_doc():
    found = _all(starlark.undocumented_attrs)
    unexplained = [f for f in found if not any(f.startswith(path + ":") and any(a in f for a in names)
                                               for path, names in UNDOCUMENTED.items())]
    assert unexplained == []
    assert len(found) == sum(len(names) for names in UNDOCUMENTED.values()), "a stale UNDOCUMENTED entry"


def test_one_rule_per_file():
    assert _all(starlark.rule_count) == []


def test_providers_are_made_only_by_their_factories():
    providers = starlark.provider_names(starlark.Tree(root()))
    assert providers == {"KtstrKernelInfo", "KtstrSchedulerInfo", "KtstrInitramfsInfo", "KtstrBpfToolchainInfo",
                         "KtstrKernelSourceInfo", "EngineFlagInfo"}
    assert _all(lambda tree, rel: starlark.raw_provider_calls(tree, rel, providers)) == []


def test_every_provider_is_defined_in_providers_bzl():
    tree = starlark.Tree(root())
    elsewhere = []
    for rel in starlark.bzl_files(root()):
        f = tree.file(rel)
        assert f is not None
        for name, value in f.assigned.items():
            if isinstance(value, starlark.ast.Call) and starlark._call_name(value) == "provider" \
                    and rel != starlark.PROVIDERS_FILE:
                elsewhere.append(f"{rel}: {name}")
    assert elsewhere == []


# The gate's own tests: a small fake tree with planted faults.

ATTRS = '''
SHARED = {
    "kernel": attr.label(doc = "the kernel"),
    "bare": attr.string(),
    "_private": attr.label(),
}
def merge_attrs(*dicts):
    pass
'''

PROVIDERS = '''
FooInfo = provider(fields = ["x"])
def make_foo_info(x):
    return FooInfo(x = x)
BAD = FooInfo(x = 1)
'''


def _tree(rule_file: str) -> starlark.Tree:
    return starlark.Tree(Path("/nonexistent"), {
        "rules/private/attrs.bzl": ATTRS,
        "rules/providers.bzl": PROVIDERS,
        "rules/private/x.bzl": rule_file,
    })


def test_an_attribute_without_doc_is_found_in_a_dict_literal():
    tree = _tree('x = rule(implementation = _i, attrs = {"a": attr.string(doc = "ok"), "b": attr.int(default = 1)})')
    found = [str(f) for f in starlark.undocumented_attrs(tree, "rules/private/x.bzl")]
    assert len(found) == 1 and "'b'" in found[0] and "no doc=" in found[0]


def test_an_empty_doc_counts_as_none():
    tree = _tree('x = rule(implementation = _i, attrs = {"a": attr.string(doc = " ")})')
    assert len(starlark.undocumented_attrs(tree, "rules/private/x.bzl")) == 1


def test_an_attribute_without_doc_is_found_through_a_load_and_a_merge():
    tree = _tree('load("//rules:private/attrs.bzl", "SHARED", "merge_attrs")\n'
                 'A = {"own": attr.string()}\n'
                 'x = rule(implementation = _i, attrs = merge_attrs(SHARED, A, {"c": attr.bool(doc = "c")}))\n')
    found = sorted(str(f) for f in starlark.undocumented_attrs(tree, "rules/private/x.bzl"))
    assert len(found) == 2
    assert found[0].startswith("rules/private/attrs.bzl:") and "'bare'" in found[0]  # where it is declared
    assert found[1].startswith("rules/private/x.bzl:2:") and "'own'" in found[1]


def test_repository_rules_and_tag_classes_are_checked_too():
    tree = _tree('r = repository_rule(implementation = _i, attrs = {"urls": attr.string_list()})\n'
                 't = tag_class(attrs = {"version": attr.string()})\n')
    assert len(starlark.undocumented_attrs(tree, "rules/private/x.bzl")) == 2


def test_attrs_the_reader_cannot_follow_are_a_finding():
    tree = _tree('x = rule(implementation = _i, attrs = make_attrs())')
    found = [str(f) for f in starlark.undocumented_attrs(tree, "rules/private/x.bzl")]
    assert len(found) == 1 and "cannot read" in found[0]


def test_two_rules_in_one_file_are_a_finding():
    tree = _tree('a = rule(implementation = _i)\nb = rule(implementation = _j)\n')
    found = [str(f) for f in starlark.rule_count(tree, "rules/private/x.bzl")]
    assert found == ["rules/private/x.bzl:2: 2 rules in one file (lines 1, 2): give each its own file"]
    assert starlark.rule_count(_tree('a = rule(implementation = _i)'), "rules/private/x.bzl") == []


def test_a_provider_called_outside_its_factory_is_found():
    tree = _tree('load("//rules:providers.bzl", "FooInfo", Renamed = "FooInfo")\n'
                 'def _impl(ctx):\n    return [FooInfo(x = 1), Renamed(x = 2)]\n')
    providers = starlark.provider_names(tree)
    assert providers == {"FooInfo"}
    found = starlark.raw_provider_calls(tree, "rules/private/x.bzl", providers)
    assert [f.line for f in found] == [3, 3]
    # In providers.bzl the factory may call it; a top-level call may not.
    found = starlark.raw_provider_calls(tree, "rules/providers.bzl", providers)
    assert [f.line for f in found] == [5]
