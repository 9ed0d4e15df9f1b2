"""The cache keys of ktstr's expensive actions do not depend on who builds or where.

Two users (other HOME, other KTSTR_CACHE_DIR, other output root, other PATH) build the
kernel, the sched_ext toolchain, a scheduler and the base initramfs from two clones at
different paths, and run a test made the way every ktstr test is made. Both build with
--noincompatible_strict_action_env, as a monorepo that never set it would: a build action that
took the caller's environment (the default shell env) would then differ between them. A
test action always takes the caller's PATH unless strict action env is on (Bazel 4 has no
rule-level way to fix it), so the tests run with the .bazelrc line the README asks for.
What a remote cache keys a spawn on is its command line, environment and the digests of
its inputs; Bazel's execution log records exactly those for every spawn, cache hits
included. They must be identical for both users, and KernelBuild must be a cache hit from
the disk cache this test's own data were built into (so the check costs no compile).
"""

import json
import os
from pathlib import Path

from tests.nested_bazel import copy_checkout, execution_log, run_bazel, shared_disk_cache

KERNEL = next(Path(p) for p in os.environ["KTSTR_DEFAULT_KERNEL_FILES"].split() if p.endswith("/bzImage"))
TARGETS = ["//kernels:default", "//initramfs:base", "//schedulers:sched_ext", "//schedulers:scx_ktstr"]
MNEMONICS = {"KernelConfig", "KernelBuild", "KernelLayout", "KtstrSchedExt", "KtstrBpfScheduler",
             "KtstrInitramfs", "TestRunner"}
# A py_test through the wrapper every ktstr test uses (rules/private/needs_ktstr_dependencies.bzl),
# cheap: no VM. Its own assertion is that its PATH is ktstr's fixed one.
TEST = "//tests/cache:test_action_env_test"
LOOSE = "--noincompatible_strict_action_env"


def key(spawn: dict) -> dict:
    """What the remote cache keys a spawn on."""
    return {
        "args": spawn.get("commandArgs", []),
        "env": sorted((e["name"], e["value"]) for e in spawn.get("environmentVariables", [])),
        "inputs": sorted((i["path"], i.get("digest", {}).get("hash", "")) for i in spawn.get("inputs", [])),
        "platform": spawn.get("platform", {}),
    }


def build_as(tmp_path: Path, user: str, clone: str, disk_cache: Path) -> dict[str, dict]:
    ws = copy_checkout(tmp_path / user / clone)
    home = tmp_path / user / "home"
    # Each user's own PATH: a directory of their own first (empty: the tools found are the
    # same, only the variable differs, which is what leaks into a default-shell-env key).
    own_bin = tmp_path / user / "bin"
    own_bin.mkdir(parents=True)
    env = {"KTSTR_CACHE_DIR": str(tmp_path / user / "ktstr-cache"), "PATH": f"{own_bin}:/usr/bin:/bin"}
    found = {}
    for verb, targets, flags in (("build", TARGETS, [LOOSE]), ("test", [TEST], [])):
        log = tmp_path / f"{user}.{verb}.exec.json"
        proc = run_bazel(ws, home, verb, *targets, *flags, f"--disk_cache={disk_cache}",
                         f"--execution_log_json_file={log}", env=env)
        assert proc.returncode == 0, f"{user}: bazel {verb} failed\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        for s in execution_log(log):
            if s.get("mnemonic") in MNEMONICS:
                label = s.get("progressMessage", "") or s["mnemonic"]
                found[f"{s['mnemonic']} {label}"] = s
    return found


def test_two_users_and_two_clone_paths_get_identical_keys(tmp_path):
    disk_cache = shared_disk_cache(KERNEL)
    alice = build_as(tmp_path, "alice", "src/ktstr", disk_cache)
    bob = build_as(tmp_path, "bob", "work/monorepo/third_party/ktstr-clone", disk_cache)
    assert {k.split(" ")[0] for k in alice} == MNEMONICS, sorted(alice)
    assert sorted(alice) == sorted(bob)
    for name in sorted(alice):
        a, b = key(alice[name]), key(bob[name])
        for part in a:
            assert a[part] == b[part], f"{name}: {part} differs between two users/clones"
        text = json.dumps(a)
        for private in (str(tmp_path), "/home/", "ktstr-cache", "/root/"):
            assert private not in text, f"{name}: a host path ({private}) is in its key"
    for name, s in {**alice, **bob}.items():
        if name.startswith("KernelBuild"):
            assert s.get("remoteCacheHit"), f"{name} was executed, not served from the cache"
