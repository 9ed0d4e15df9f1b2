#!/usr/bin/env bash
# Two users share kernels through the bundled HTTP remote cache.
#
# User A (own HOME, own clone, no disk cache) builds the targets against a fresh cache server
# on 127.0.0.1 with the writer's credential, filling it. User B (another HOME, a clone at
# another path, empty disk cache, read-only flags) then builds them from it. Printed:
# A's and B's wall times side by side, and how many KernelBuild / other actions B executed
# instead of taking them from the cache (goal: 0 KernelBuild).
#
#   tools/bench/cache_two_users.sh [targets...]
#       (default: the kernel, the base initramfs, the sched_ext toolchain and two schedulers;
#        //sched/... also builds the debug kernel of the matrix: another ~10 min for A)
#
# A builds everything once (a kernel compile: ~8 min on 2 cores); nothing outside $work is
# written, and the server is stopped at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(//kernels:default //initramfs:base //schedulers:sched_ext
                                      //schedulers:scx_ktstr //schedulers:scx_simple)
work="$(mktemp -d /tmp/ktstr-two-users.XXXXXX)"
bazel_bin="$(ls /usr/bin/bazel-[0-9]* 2>/dev/null | head -1)"; bazel_bin="${bazel_bin:-$(command -v bazel)}"
java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"

clone() {  # clone DEST: the checkout's files (tracked + untracked, not ignored) at DEST
  mkdir -p "$1"
  (cd "$here" && git ls-files -z --cached --others --exclude-standard | \
     xargs -0 -I{} cp --parents {} "$1" 2>/dev/null || true)
}

printf 'cache-bench-%s' "$RANDOM$RANDOM" > "$work/password"
python3 "$here/tools/remote_cache/remote_cache.py" serve --root "$work/cache" --port 0 \
    --writer bench --password-file "$work/password" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "remote cache at" "$work/server.log" && break; sleep 0.1; done
url="$(sed -n 's/^remote cache at \(http[^ ]*\) .*/\1/p' "$work/server.log")"
[ -n "$url" ] || { cat "$work/server.log"; exit 1; }
auth="Authorization=Basic $(printf 'bench:%s' "$(cat "$work/password")" | base64 -w0)"

run_as() {  # run_as USER CLONE_PATH EXTRA_FLAGS...: prints wall seconds; log in $work/USER.*
  local user="$1" ws="$2"; shift 2
  clone "$ws"
  local start end
  start=$(date +%s.%N)
  (cd "$ws" && env -i PATH=/usr/bin:/bin HOME="$work/$user/home" JAVA_HOME="$java_home" \
     "$bazel_bin" --output_user_root="$work/$user/bazel" build "${targets[@]}" \
     --remote_cache="$url" --execution_log_json_file="$work/$user.exec.json" "$@" \
     > "$work/$user.log" 2>&1) || { tail -30 "$work/$user.log"; exit 1; }
  end=$(date +%s.%N)
  (cd "$ws" && env -i PATH=/usr/bin:/bin HOME="$work/$user/home" JAVA_HOME="$java_home" \
     "$bazel_bin" --output_user_root="$work/$user/bazel" shutdown >/dev/null 2>&1 || true)
  python3 -c "print(f'{$end - $start:.1f}')"
}

a=$(run_as alice "$work/alice/src/ktstr" "--remote_header=$auth")
b=$(run_as bob "$work/bob/elsewhere/monorepo/ktstr" --noremote_upload_local_results)

python3 - "$work/bob.exec.json" "$a" "$b" <<'PY'
import collections, json, sys
text, dec, i = open(sys.argv[1]).read(), json.JSONDecoder(), 0
executed, hits = collections.Counter(), collections.Counter()
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    s, i = dec.raw_decode(text, i)
    (hits if s.get("remoteCacheHit") else executed)[s.get("mnemonic", "?")] += 1
a, b = float(sys.argv[2]), float(sys.argv[3])
print(f"user A (fills the cache): {a:7.1f} s")
print(f"user B (other home, other clone, empty disk cache): {b:7.1f} s  (B/A = {b / a:.3f})")
print(f"B: KernelBuild executed {executed['KernelBuild']} (goal 0), from the cache {hits['KernelBuild']}")
print(f"B: all spawns executed {sum(executed.values())}, from the cache {sum(hits.values())}")
for m, n in sorted(executed.items()):
    print(f"   executed {m}: {n}")
sys.exit(0 if executed["KernelBuild"] == 0 and hits["KernelBuild"] > 0 else 1)
PY
