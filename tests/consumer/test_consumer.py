"""examples/consumer, a separate workspace that uses ktstr as a monorepo would, passes
`bazel test //...` with its own Bazel: the rules, the guest agent, its own BPF scheduler
and the verdicts all work from an external repository.

The checkout is copied (the consumer reaches ktstr as local_repository ../..), and the
consumer's Bazel runs as another user (own home and output root) with the disk cache
./bazelw uses. ktstr's kernels are built in @ktstr_kernels in both workspaces
(rules/private/kernels_repository.bzl), so their actions have the same keys: the kernel
this workspace built (the test's data) is a cache hit there, and no KernelBuild runs.
"""

import os
from pathlib import Path

from tests.nested_bazel import copy_checkout, execution_log, run_bazel, shared_disk_cache

KERNEL = next(Path(p) for p in os.environ["KTSTR_DEFAULT_KERNEL_FILES"].split() if p.endswith("/bzImage"))


def test_consumer_workspace_builds_and_passes(tmp_path):
    shared = shared_disk_cache(KERNEL, required=False)
    disk_cache = shared or tmp_path / "disk-cache"
    ktstr = copy_checkout(tmp_path / "src" / "ktstr")
    consumer = ktstr / "examples" / "consumer"
    log = tmp_path / "exec.json"
    proc = run_bazel(consumer, tmp_path / "home", "test", "//...", f"--disk_cache={disk_cache}",
                     f"--execution_log_json_file={log}", "--test_output=errors",
                     "--nocache_test_results", timeout=3300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    for target in ("//sched:fifo_test", "//sched:fifo_gauntlet_tiny_2llc"):
        assert f"{target} " in out and "PASSED" in out.split(f"{target} ", 1)[1].split("\n", 1)[0], out[-4000:]
    # The consumer's own scheduler was built from its sources against @ktstr's kernel.
    spawns = execution_log(log)
    built = {s.get("mnemonic") for s in spawns}
    assert "KtstrBpfScheduler" in built, sorted(m for m in built if m)
    # ktstr's kernel, which this workspace built into the same cache, is not built again.
    kernels = [s for s in spawns if s.get("mnemonic") in ("KernelConfig", "KernelBuild")]
    if shared:
        compiled = [s.get("progressMessage", "") for s in kernels if not s.get("remoteCacheHit")]
        assert kernels and not compiled, f"the consumer executed kernel actions ktstr built already: {compiled}"
    # The consumer's test logs: the guest agent ran its tests from @ktstr's initramfs.
    testlog = consumer / "bazel-testlogs" / "sched" / "fifo_test" / "test.log"
    text = testlog.read_text()
    assert "fifo_is_fair" in text and "pinned_halves_wake_quickly" in text, text[-3000:]
    # ktstr's CLI from a subdirectory of the consumer: `bazel run @ktstr//:ktstr` builds no
    # kernel here (its default kernel and initramfs are the ones fifo_test just used), and a
    # relative path is the caller's directory's ($BUILD_WORKING_DIRECTORY).
    proc = run_bazel(consumer / "sched", tmp_path / "home", "run", f"--disk_cache={disk_cache}",
                     "@ktstr//:ktstr", "--", "list", "--catalogue", timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "catalogue entries; curated" in proc.stdout, proc.stdout[-2000:]
    proc = run_bazel(consumer / "sched", tmp_path / "home", "run", f"--disk_cache={disk_cache}",
                     "@ktstr//:ktstr", "--", "list", "fifo_tests.py", timeout=900)
    assert proc.returncode == 0 and "fifo_tests.py:fifo_is_fair" in proc.stdout, (proc.stdout + proc.stderr)[-4000:]

