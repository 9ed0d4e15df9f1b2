#!/usr/bin/env bash
# After `bazel clean`, rebuilding the expensive artifacts (kernel, schedulers, sched_ext
# selftests runner, initramfs) must execute nothing: every action is a disk-cache hit.
# Prints Bazel's process summary of the rebuild and the actions that did execute (if any).
#
#   tools/bench/cache_after_clean.sh [targets...]   (default: //kernels:default //sched/...
#                                                    //schedulers/... //initramfs:base)
# Run it in a checkout whose outputs you don't mind cleaning (a git worktree is ideal).
set -euo pipefail
cd "$(dirname "$0")/../.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(//kernels:default //sched/... //schedulers/... //initramfs:base)
log=$(mktemp -d)/exec.json
./bazelw build "${targets[@]}" >/dev/null 2>&1   # make sure the cache holds everything
./bazelw clean >/dev/null 2>&1
./bazelw build "${targets[@]}" --execution_log_json_file="$log" 2>&1 | grep -E "INFO: [0-9]+ processes" | head -1
python3 - "$log" <<'PY'
import collections, json, sys
text, dec, i, spawns, executed = open(sys.argv[1]).read(), json.JSONDecoder(), 0, 0, []
hits = collections.Counter()
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    spawn, i = dec.raw_decode(text, i)
    spawns += 1
    if spawn.get("remoteCacheHit"):
        hits[spawn.get("mnemonic")] += 1
    else:
        executed.append(f"{spawn.get('mnemonic')}: {spawn.get('progressMessage')}")
print(f"spawned actions after clean: {spawns}, disk-cache hits: {spawns - len(executed)}, executed: {len(executed)}")
print("  hits by kind:", ", ".join(f"{m} {n}" for m, n in sorted(hits.items())))
for line in executed:
    print("  executed:", line)
sys.exit(1 if executed else 0)
PY
