"""The defaults the docs state are the defaults table's (tools/lint/doc_defaults.py), and the
gate shown failing on planted contradictions."""

from __future__ import annotations

from ktstr.wire import defaults
from tools.lint.doc_defaults import violations
from tools.lint.source_tree import root


def _docs() -> dict[str, str]:
    top = root()
    paths = [top / "README.md", *sorted((top / "docs").glob("*.md"))]
    return {str(p.relative_to(top)): p.read_text() for p in paths}


def test_the_docs_state_the_tables_defaults():
    bad, found = violations(_docs())
    assert not bad, "\n".join(bad)
    # The gate reads what it is meant to: every job kind's VM timeout and the memory rule are
    # stated somewhere it looks (else it would pass by finding nothing).
    timeouts = {s.kind for s in found if s.quantity == "vm_timeout_s"}
    assert set(defaults.JOBS) <= timeouts, f"no doc states the VM timeout of {set(defaults.JOBS) - timeouts}"
    assert any(s.quantity == "memory_rule" for s in found)


def test_a_planted_wrong_timeout_fails():
    bad, _ = violations({"docs/x.md": "vm_timeout_s: None means the test job's\n  default, 60 s."})
    assert len(bad) == 1 and "docs/x.md" in bad[0] and "(60.0,)" in bad[0] and "(120.0,)" in bad[0]
    bad, _ = violations({"docs/x.md": "VM timeout 120 s for tests, 120 s for selftests, 300 s for verifier cells"})
    assert len(bad) == 1 and "selftests" in bad[0]


def test_a_planted_wrong_memory_fails():
    assert len(violations({"README.md": "memory: max(2048, 64 per vCPU) unless given"})[0]) == 1
    assert len(violations({"README.md": "512 MiB for tests"})[0]) == 1  # tests have no fixed size
    assert violations({"README.md": "512 MiB for selftests; else max(1024, 64 per vCPU)"})[0] == []


def test_a_loose_timeout_default_must_be_some_jobs():
    assert len(violations({"README.md": "The VM timeout defaults to 90 s."})[0]) == 1
    assert violations({"README.md": "The VM timeout defaults to 300 s for a verifier run."})[0] == []
    # A sentence about another timeout is not a VM timeout statement.
    assert violations({"README.md": "sched_ext's watchdog default is 30 s."}) == ([], [])


def test_the_gate_follows_the_table_not_its_own_numbers():
    # The same doc passes or fails by what the table says: the numbers live in the table.
    doc = {"docs/x.md": "the verifier job's default, 200 s"}
    assert len(violations(doc)[0]) == 1
    changed = {**defaults.JOBS, "verifier": defaults.JobDefaults("verifier", "v", 200.0)}
    assert violations(doc, changed)[0] == []
