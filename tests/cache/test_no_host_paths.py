"""No compiled output carries a path of the machine that built it.

A path of the builder in an output (the sandbox's execroot under the user's output base, or a
`mktemp -d` directory) makes two builds of the same inputs differ byte for byte. Then
everything downstream (schedulers, images, test results) gets other input digests on each
machine that executes the action, and the shared caches stop sharing. The outputs are this
test's data: the sched_ext toolchain (libbpf, bpftool, headers) and the kernel's example
schedulers, the selftests runner, a ktstr_bpf_scheduler and its BPF object, and the kernel's
vmlinux. Without the compilers' prefix maps (rules/private/sched_ext_toolchain.bzl,
sched_ext_selftests.bzl, build_bpf_scheduler.sh, the kernel tool) this fails, naming the file
and the path found.
"""

import os
import re
from pathlib import Path

# An execroot under an output base (/.../_bazel_<user>/<hash>/...), a sandbox's copy of it,
# and mktemp's default names.
HOST_PATH = re.compile(rb"/_bazel_[^/\x00]+/[0-9a-f]{32}/|/sandbox/linux-sandbox/\d+/|/tmp/tmp\.[A-Za-z0-9]{10}")


def outputs() -> list[Path]:
    found = []
    for given in os.environ["KTSTR_COMPILED_OUTPUTS"].split():
        p = Path(given)
        found += sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    return found


def test_no_output_holds_a_host_path():
    files = outputs()
    assert len(files) > 10, f"only {len(files)} outputs given: the data list is wrong"
    bad = []
    for f in files:
        hit = HOST_PATH.search(f.read_bytes())
        if hit:
            bad.append(f"{f}: {hit.group().decode(errors='replace')!r}")
    assert not bad, "outputs holding a path of the builder:\n" + "\n".join(bad)


def test_the_pattern_finds_a_planted_sandbox_path():
    planted = b"\x00/root/.cache/bazel/_bazel_root/835165e65df656dc9abbd58e53cf243e/sandbox/linux-sandbox/28/x.c"
    assert HOST_PATH.search(planted)
    assert HOST_PATH.search(b"/tmp/tmp.AbCdEf0123/build/x.o")
    assert not HOST_PATH.search(b"./external/linux_6_12/src/tools/sched_ext/scx_simple.bpf.c")
