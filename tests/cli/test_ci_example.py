"""examples/ci/ktstr.yml's commands work in a consumer workspace (examples/consumer, which the
workflow is written for): every bazel flag and .bazelrc.user line parses, every target
pattern and build-setting label resolves, and a build setting's value is one it accepts.

A nested Bazel, cheap on purpose: `canonicalize-flags` and `query` load BUILD files but
fetch no kernel source and build nothing (a `test --nobuild` costs 2 minutes of fetching
and analysis). Planted faults (a misspelt flag, a missing target) show each check fails.
"""

import pytest

from ktstr.host.engines import ENGINE_NAMES
from tests.cli.ci_workflow import bazel_commands, rc_lines
from tests.nested_bazel import copy_checkout, run_bazel, source_root

# examples/ is not a package of this workspace (.bazelignore): read from the checkout.
WORKFLOW = source_root() / "examples" / "ci" / "ktstr.yml"
# The runner's variables and secrets, for the shell that writes .bazelrc.user: a push to main
# with both set, so every line (the writer's header too) is checked.
RUNNER_ENV = {"PATH": "/usr/bin:/bin", "URL": "http://127.0.0.1:9", "WRITE": "ci:secret",
              "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main"}


@pytest.fixture(scope="module")
def consumer(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ci")
    ws = copy_checkout(tmp / "ktstr") / "examples" / "consumer"
    return ws, tmp / "home"


def test_workflow_has_the_documented_jobs():
    commands = bazel_commands(WORKFLOW.read_text())
    assert [c.command for c in commands] == ["test", "test"]  # the KVM and the TCG job
    tcg = commands[1].flags
    assert "--@ktstr//rules:engine=qemu-tcg" in tcg and "--test_tag_filters=-requires-kvm" in tcg
    rc = rc_lines(WORKFLOW.read_text(), {**RUNNER_ENV, "HOME": "/home/runner"})
    for cache in ("--repository_cache=/home/runner/.cache/bazel-repo", "--disk_cache=/home/runner/.cache/bazel-disk"):
        assert f"build {cache}" in rc
    assert "key: ktstr-" in WORKFLOW.read_text()


def test_flags_and_rc_lines_parse(consumer):
    ws, home = consumer
    text = WORKFLOW.read_text()
    flags = [f for c in bazel_commands(text) for f in c.flags]
    flags += [line.split(" ", 1)[1] for line in rc_lines(text, {**RUNNER_ENV, "HOME": str(home)})]
    proc = run_bazel(ws, home, "canonicalize-flags", "--for_command=test", "--", *flags)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Build settings: canonicalize-flags takes any value; the engine flag's are ktstr's engines.
    for f in flags:
        if f.startswith("--@ktstr//rules:engine="):
            assert f.split("=", 1)[1] in ENGINE_NAMES, f


def test_a_misspelt_flag_is_refused(consumer):
    ws, home = consumer
    proc = run_bazel(ws, home, "canonicalize-flags", "--for_command=test", "--", "--test_tag_filter=-requires-kvm")
    assert proc.returncode != 0 and "Unrecognized option: --test_tag_filter=-requires-kvm" in proc.stderr


def test_target_patterns_and_flag_labels_resolve(consumer):
    ws, home = consumer
    commands = bazel_commands(WORKFLOW.read_text())
    patterns = sorted({p for c in commands for p in c.patterns})
    labels = sorted({f[2:].split("=", 1)[0] for c in commands for f in c.flags if f.startswith("--@")})
    assert patterns and labels == ["@ktstr//rules:engine"]
    # One query, --keep_going: the workflow's patterns must resolve, the planted one must not.
    planted = "//sched:no_such_target"
    proc = run_bazel(ws, home, "query", "--keep_going", " + ".join([*patterns, *labels, planted]))
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors and all("no_such_target" in e for e in errors), proc.stderr[-3000:]
    assert "//sched:fifo_test" in proc.stdout and "@ktstr//rules:engine" in proc.stdout


def test_kernel_source_override_replaces_debians(consumer):
    # examples/ci/kernel_source.WORKSPACE where it says: after ktstr's load, before
    # ktstr_dependencies(); @linux_6_12 is then the kernel.org tarball (declared, not fetched).
    ws, home = consumer
    fragment = (WORKFLOW.parent / "kernel_source.WORKSPACE").read_text()
    workspace = ws / "WORKSPACE"
    original = workspace.read_text()
    assert "\nktstr_dependencies()" in original
    workspace.write_text(original.replace("\nktstr_dependencies()", "\n" + fragment + "\nktstr_dependencies()", 1))
    try:
        proc = run_bazel(ws, home, "query", "--output=build", "//external:linux_6_12")
    finally:
        workspace.write_text(original)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.12" in proc.stdout
    assert "debian_package" not in proc.stdout, proc.stdout
