"""docs/api.md is what the rule definitions say (tools/lint/api_docs.py), and the drift check
is shown failing on planted changes of the rules."""

from __future__ import annotations

from tools.lint import api_docs, starlark
from tools.lint.source_tree import root


def test_api_md_is_current():
    assert api_docs.stale(root()) is None


def _planted(rel: str, old: str, new: str) -> starlark.Tree:
    text = (root() / rel).read_text()
    assert old in text, f"the planted change's anchor {old!r} is gone from {rel}"
    return starlark.Tree(root(), {rel: text.replace(old, new, 1)})


def test_a_changed_attribute_doc_makes_it_stale():
    tree = _planted("rules/private/scheduler.bzl", 'doc = "the loader; omit for EEVDF"',
                    'doc = "the loader binary; omit for EEVDF"')
    message = api_docs.stale(root(), tree)
    assert message is not None and "python3 -m tools.lint.api_docs" in message
    assert "the loader binary; omit for EEVDF" in api_docs.render(tree)


def test_a_new_macro_argument_makes_it_stale():
    tree = _planted("rules/private/ktstr_test.bzl", "        remote_exec = False,\n",
                    "        remote_exec = False,\n        planted = 1,\n")
    assert api_docs.stale(root(), tree) is not None


def test_a_new_export_makes_it_stale():
    tree = _planted(api_docs.DEFS, "ktstr_matrix = _ktstr_matrix\n",
                    "ktstr_matrix = _ktstr_matrix\nktstr_planted = _ktstr_matrix\n")
    assert "## ktstr_planted" in api_docs.render(tree)
    assert api_docs.stale(root(), tree) is not None


def test_every_export_is_documented():
    text = (root() / api_docs.API_DOC).read_text()
    defs = starlark.BzlFile(root(), api_docs.DEFS)
    assert [n for n in defs.assigned if not n.startswith("_") and f"## {n}\n" not in text] == []
