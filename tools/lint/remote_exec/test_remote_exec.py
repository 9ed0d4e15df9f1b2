"""The remote-execution conventions (rules/private/platform.bzl, docs/remote-execution.md) as
Bazel analyzed them: probe.json holds the tags, exec_properties and target_compatible_with of
one target of each ktstr rule and macro (tools/lint/remote_exec/BUILD.bazel). The check is
shown failing on planted faults below."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

LINUX_X86_64 = {"@platforms//os:linux", "@platforms//cpu:x86_64"}
PACKAGE = "//tools/lint/remote_exec:"
# Resolved at import: the runner changes directory before the tests run. Outside Bazel (plain
# pytest from the root): the probe `bazel build //tools/lint/remote_exec:probe` wrote.
PROBE = os.path.abspath(os.environ.get("KTSTR_PROBE", "bazel-bin/tools/lint/remote_exec/probe.json"))


@dataclass(frozen=True)
class Expected:
    """What one probed target must carry besides x86_64 Linux."""
    vm_test: bool = False  # a test booting VMs: tagged "ktstr"
    remote_exec: bool = False  # no "no-remote-exec" tag
    requires_kvm: bool = False
    exec_properties: dict[str, str] = field(default_factory=dict)


EXPECTED = {
    PACKAGE + "default_test": Expected(vm_test=True),
    PACKAGE + "kvm_pool_test": Expected(vm_test=True, remote_exec=True, requires_kvm=True,
                                        exec_properties={"Pool": "kvm"}),
    PACKAGE + "qemu_kvm_test": Expected(vm_test=True, requires_kvm=True),
    PACKAGE + "compare_test": Expected(vm_test=True),
    PACKAGE + "compare_test_baseline": Expected(vm_test=True),
    "//schedulers:verifier_test": Expected(vm_test=True),
    PACKAGE + "shell": Expected(),
    "//initramfs:base": Expected(),
    "@ktstr_kernels//:default": Expected(),  # //kernels:default is its alias
    "//schedulers:eevdf": Expected(),
    "//schedulers:scx_ktstr": Expected(),
    "//schedulers:sched_ext": Expected(),
    "//schedulers:sched_ext_selftests_runner": Expected(),
}


def violations(probed: list[dict], expected: dict[str, Expected]) -> list[str]:
    """Every way the analyzed targets differ from `expected`, as sentences."""
    out = []
    seen = {p["label"] for p in probed}
    out += [f"{label}: expected but not probed" for label in expected if label not in seen]
    for p in probed:
        label, tags = p["label"], set(p["tags"])
        want = expected.get(label)
        if want is None:
            out.append(f"{label}: probed but has no expectation here")
            continue
        missing = LINUX_X86_64 - set(p["target_compatible_with"])
        if missing:
            out.append(f"{label} ({p['kind']}): target_compatible_with lacks {sorted(missing)}")
        for tag, present in (("ktstr", want.vm_test), ("requires-kvm", want.requires_kvm),
                             ("no-remote-exec", want.vm_test and not want.remote_exec)):
            if (tag in tags) != present:
                out.append(f"{label}: tag {tag!r} {'missing' if present else 'unexpected'} (tags: {sorted(tags)})")
        if p["exec_properties"] != want.exec_properties:
            out.append(f"{label}: exec_properties {p['exec_properties']} != {want.exec_properties}")
    return out


def _probed() -> list[dict]:
    return json.loads(Path(PROBE).read_text())


def test_the_analyzed_targets_follow_the_conventions():
    assert violations(_probed(), EXPECTED) == []


# The check's own tests: planted faults in a copy of the real probe.

def _planted(label: str, **changes) -> list[str]:
    probed = [dict(p) for p in _probed()]
    for p in probed:
        if p["label"] == label:
            p.update(changes)
    return violations(probed, EXPECTED)


def test_a_missing_constraint_is_found():
    found = _planted("@ktstr_kernels//:default", target_compatible_with=["@platforms//os:linux"])
    assert len(found) == 1 and "@platforms//cpu:x86_64" in found[0]


def test_a_vm_test_without_no_remote_exec_is_found():
    found = _planted(PACKAGE + "default_test", tags=["cpu:2", "ktstr", "manual"])
    assert len(found) == 1 and "'no-remote-exec' missing" in found[0]


def test_a_lifted_no_remote_exec_that_stayed_is_found():
    found = _planted(PACKAGE + "kvm_pool_test", tags=["cpu:2", "ktstr", "requires-kvm", "no-remote-exec"])
    assert len(found) == 1 and "'no-remote-exec' unexpected" in found[0]


def test_a_kvm_engine_without_requires_kvm_is_found():
    found = _planted(PACKAGE + "qemu_kvm_test", tags=["cpu:2", "ktstr", "no-remote-exec"])
    assert len(found) == 1 and "'requires-kvm' missing" in found[0]


def test_a_dropped_exec_properties_is_found():
    found = _planted(PACKAGE + "kvm_pool_test", exec_properties={})
    assert len(found) == 1 and "exec_properties" in found[0]


def test_a_target_left_out_of_the_probe_is_found():
    probed = [p for p in _probed() if p["label"] != "//schedulers:eevdf"]
    assert violations(probed, EXPECTED) == ["//schedulers:eevdf: expected but not probed"]
