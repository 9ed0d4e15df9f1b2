"""ktstr_sched_ext_toolchain: the kernel's own tools/sched_ext build, once per kernel.

libbpf, bpftool, vmlinux.h from the kernel's BTF, and the example schedulers shipped with the
source; exports a BPF toolchain (bpftool, libbpf.a, headers: KtstrBpfToolchainInfo) for user
schedulers (bpf_scheduler.bzl).
"""

load("//rules:private/host_tools.bzl", "ACTION_ENV")
load("//rules:private/platform.bzl", "on_linux_x86_64")
load("//rules:providers.bzl", "KtstrKernelInfo", "make_bpf_toolchain_info")

EXAMPLES = ["scx_simple", "scx_qmap", "scx_central", "scx_flatcg"]

def kernel_source_root(files):
    """The exec path of the kernel source root.

    Args:
      files: the files of the kernel's :tools_sources.

    Returns:
      The path before "/tools/sched_ext/".
    """
    for f in files:
        idx = f.path.find("/tools/sched_ext/")
        if idx > 0:
            return f.path[:idx]
    fail("the kernel source given has no tools/sched_ext directory (is it Linux 6.12 or newer?)")

def mapped_compilers_sh(tmp):
    """Shell lines that make $cc_dir/gcc and $cc_dir/clang-19: the compilers with prefix maps.

    The execroot (a per-build sandbox path under the user's output base) and the action's
    temporary build directory would otherwise be in the debug info and BTF of every binary, so
    two builds of the same inputs would differ (//tests/cache:no_host_paths_test). Wrappers,
    not flags in CC=: the kernel's tools Makefiles pass $(HOSTCC) on to sub-makes unquoted.
    The caller removes $cc_dir.

    Args:
      tmp: the shell expression of the action's temporary build directory.

    Returns:
      The shell lines.
    """
    return """cc_dir="$(mktemp -d)"
for cc in gcc clang-19; do
  printf '#!/bin/sh\\nexec %s -ffile-prefix-map=%s=. -ffile-prefix-map=%s=out "$@"\\n' "$cc" "$PWD" "{tmp}" > "$cc_dir/$cc"
  chmod +x "$cc_dir/$cc"
done
""".format(tmp = tmp)

def _toolchain_impl(ctx):
    kernel = ctx.attr.kernel[KtstrKernelInfo]
    srcs = ctx.files.source
    root = kernel_source_root(srcs)
    tc = ctx.actions.declare_directory(ctx.label.name + "_toolchain")
    bins = [ctx.actions.declare_file("%s/%s" % (ctx.label.name, s)) for s in ctx.attr.examples]
    script = """set -euo pipefail
root="$PWD/{root}"
vmlinux="$PWD/{vmlinux}"
tc="$PWD/{tc}"
bindir="$PWD/{bindir}"
out="$(mktemp -d)"
trap 'rm -rf "$out" "$out.log" "$cc_dir"' EXIT
{mapped_compilers}# The kernel's own build of libbpf, bpftool, vmlinux.h and the examples; nothing is written
# into the source tree (O= points outside it).
if ! make -s -C "$root/tools/sched_ext" O="$out" VMLINUX_BTF="$vmlinux" \\
     CC="$cc_dir/gcc" HOSTCC="$cc_dir/gcc" CLANG="$cc_dir/clang-19" LLVM_STRIP=llvm-strip-19 \\
     -j{jobs} {examples} > "$out.log" 2>&1; then
  tail -n 80 "$out.log" >&2
  echo "ktstr: building tools/sched_ext against {kernel} failed (log tail above)" >&2
  exit 1
fi
mkdir -p "$tc/bin" "$tc/lib" "$tc/include"
cp "$out/build/sbin/bpftool" "$tc/bin/"
cp "$out/build/obj/libbpf/libbpf.a" "$tc/lib/"
cp -r "$out/build/include/." "$tc/include/"
for s in {examples}; do cp "$out/build/bin/$s" "$bindir/$s"; done
""".format(
        root = root,
        vmlinux = kernel.vmlinux.path,
        tc = tc.path,
        bindir = bins[0].dirname if bins else tc.path,
        jobs = 2,
        examples = " ".join(ctx.attr.examples),
        kernel = ctx.attr.kernel.label,
        mapped_compilers = mapped_compilers_sh("$out"),
    )
    ctx.actions.run_shell(
        command = script,
        inputs = srcs + [kernel.vmlinux, ctx.file._host_tools],
        outputs = [tc] + bins,
        mnemonic = "KtstrSchedExt",
        progress_message = "Building libbpf, bpftool and sched_ext examples for %s" % ctx.attr.kernel.label,
        execution_requirements = {"cpu:2": ""},
        env = ACTION_ENV,
    )
    groups = {s: depset([b]) for s, b in zip(ctx.attr.examples, bins)}
    return [
        DefaultInfo(files = depset(bins)),
        OutputGroupInfo(toolchain = depset([tc]), **groups),
        make_bpf_toolchain_info(dir = tc, source_files = depset(srcs), source_root = root, kernel_version = kernel.version),
    ]

ktstr_sched_ext_toolchain_rule = rule(
    implementation = _toolchain_impl,
    attrs = {
        "kernel": attr.label(mandatory = True, providers = [KtstrKernelInfo], doc = "the ktstr_kernel whose BTF makes vmlinux.h"),
        "source": attr.label(mandatory = True, allow_files = True, doc = "the kernel's :tools_sources"),
        "examples": attr.string_list(default = EXAMPLES, doc = "the kernel's example schedulers to build"),
        "_host_tools": attr.label(default = Label("@ktstr_host_tools//:bpf.txt"), allow_single_file = True),
    },
)

def ktstr_sched_ext_toolchain(name, target_compatible_with = None, **kwargs):
    """bpftool, libbpf and vmlinux.h of one kernel (the rule `ktstr_sched_ext_toolchain_rule` above).

    Limited to x86_64 Linux and `target_compatible_with` (platform.bzl); `kwargs` are the
    rule's attributes (docs/api.md).
    """
    on_linux_x86_64(ktstr_sched_ext_toolchain_rule, name, target_compatible_with, **kwargs)
