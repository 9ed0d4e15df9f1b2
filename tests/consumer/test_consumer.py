"""examples/consumer, a separate workspace that uses ktstr as a monorepo would, passes
`bazel test //...` with its own Bazel: the rules, the guest agent, its own BPF scheduler
and the verdicts all work from an external repository.

The checkout is copied (the consumer reaches ktstr as local_repository ../..), the
consumer's Bazel runs as another user (own home and output root) and shares only the disk
cache, so the kernel, the base initramfs and the sched_ext toolchain come from it, built
by this test's own data dependencies: the consumer's keys equal ours or it would compile.
"""

import os
from pathlib import Path

from tests.nested_bazel import copy_checkout, execution_log, run_bazel, shared_disk_cache

KERNEL = next(Path(p) for p in os.environ["KTSTR_DEFAULT_KERNEL_FILES"].split() if p.endswith("/bzImage"))


def test_consumer_workspace_builds_and_passes(tmp_path):
    disk_cache = shared_disk_cache(KERNEL)
    ktstr = copy_checkout(tmp_path / "src" / "ktstr")
    consumer = ktstr / "examples" / "consumer"
    log = tmp_path / "exec.json"
    proc = run_bazel(consumer, tmp_path / "home", "test", "//...", f"--disk_cache={disk_cache}",
                     f"--execution_log_json_file={log}", "--test_output=errors",
                     "--nocache_test_results", timeout=1500)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    for target in ("//sched:fifo_test", "//sched:fifo_gauntlet_tiny_2llc"):
        assert f"{target} " in out and "PASSED" in out.split(f"{target} ", 1)[1].split("\n", 1)[0], out[-4000:]
    # What came from the cache: the kernel was not built again for another user and clone.
    spawns = execution_log(log)
    kernel = [s for s in spawns if s.get("mnemonic") == "KernelBuild"]
    assert kernel and all(s.get("remoteCacheHit") for s in kernel), \
        f"KernelBuild ran in the consumer: {[(s.get('mnemonic'), s.get('remoteCacheHit')) for s in kernel]}"
    # The consumer's test logs: the guest agent ran its tests from @ktstr's initramfs.
    testlog = consumer / "bazel-testlogs" / "sched" / "fifo_test" / "test.log"
    text = testlog.read_text()
    assert "fifo_is_fair" in text and "pinned_halves_wake_quickly" in text, text[-3000:]

