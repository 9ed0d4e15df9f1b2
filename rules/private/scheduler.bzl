"""Schedulers as build artifacts.

- ktstr_sched_ext_toolchain: runs the kernel's own tools/sched_ext build once per kernel
  (libbpf, bpftool, vmlinux.h from the kernel's BTF, and the example schedulers shipped with
  the source), and exports a BPF toolchain (bpftool, libbpf.a, headers) for user schedulers.
- ktstr_bpf_scheduler: a scheduler from sources (.bpf.c + loader .c) built with that
  toolchain: clang -target bpf -> bpftool gen object/skeleton -> cc + libbpf.a.
- ktstr_scheduler: wraps a binary (an example's output, or one built elsewhere, e.g. a Rust
  scx scheduler) or nothing (EEVDF) as KtstrSchedulerInfo.
"""

load("//rules:private/host_tools.bzl", "ACTION_ENV")
load("//rules:providers.bzl", "KtstrKernelInfo", "KtstrSchedulerInfo")

KtstrBpfToolchainInfo = provider(
    doc = "bpftool, libbpf and headers built from one kernel's source, with its vmlinux.h.",
    fields = {
        "dir": "tree artifact: bin/bpftool, lib/libbpf.a, include/{vmlinux.h,bpf/*.h}",
        "source_files": "depset: the kernel tools sources (scx and libbpf headers)",
        "source_root": "string: exec path of the kernel source root",
    },
)

EXAMPLES = ["scx_simple", "scx_qmap", "scx_central", "scx_flatcg"]

_INIT_CPU_DOC = ("the CPU the scheduler's ops.init() must run on (-1: any): Linux 6.12 runs it on " +
                 "sched_ext's enable kthread, which the agent pins there before attaching " +
                 "(ktstr/guest/enable_helper.py); scx_central needs its central CPU")

def _source_root(files):
    for f in files:
        idx = f.path.find("/tools/sched_ext/")
        if idx > 0:
            return f.path[:idx]
    fail("the kernel source given has no tools/sched_ext directory (is it Linux 6.12 or newer?)")

def _toolchain_impl(ctx):
    kernel = ctx.attr.kernel[KtstrKernelInfo]
    srcs = ctx.files.source
    root = _source_root(srcs)
    tc = ctx.actions.declare_directory(ctx.label.name + "_toolchain")
    bins = [ctx.actions.declare_file("%s/%s" % (ctx.label.name, s)) for s in ctx.attr.examples]
    script = """set -euo pipefail
root="$PWD/{root}"
vmlinux="$PWD/{vmlinux}"
tc="$PWD/{tc}"
bindir="$PWD/{bindir}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# The kernel's own build of libbpf, bpftool, vmlinux.h and the examples; nothing is written
# into the source tree (O= points outside it).
if ! make -s -C "$root/tools/sched_ext" O="$out" VMLINUX_BTF="$vmlinux" \\
     CLANG=clang-19 LLVM_STRIP=llvm-strip-19 HOSTCC=gcc -j{jobs} {examples} > "$out.log" 2>&1; then
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
        KtstrBpfToolchainInfo(dir = tc, source_files = depset(srcs), source_root = root),
    ]

ktstr_sched_ext_toolchain = rule(
    implementation = _toolchain_impl,
    attrs = {
        "kernel": attr.label(mandatory = True, providers = [KtstrKernelInfo]),
        "source": attr.label(mandatory = True, allow_files = True, doc = "the kernel's :tools_sources"),
        "examples": attr.string_list(default = EXAMPLES, doc = "the kernel's example schedulers to build"),
        "_host_tools": attr.label(default = Label("@ktstr_host_tools//:bpf.txt"), allow_single_file = True),
    },
)

def _bpf_scheduler_impl(ctx):
    tc = ctx.attr.toolchain[KtstrBpfToolchainInfo]
    if len(ctx.files.bpf_srcs) != 1:
        fail("ktstr_bpf_scheduler %s: give exactly one .bpf.c in bpf_srcs" % ctx.label)
    bpf_src = ctx.files.bpf_srcs[0]
    if not bpf_src.basename.endswith(".bpf.c"):
        fail("ktstr_bpf_scheduler %s: %s must be named <name>.bpf.c" % (ctx.label, bpf_src.basename))
    skel = bpf_src.basename[:-len(".bpf.c")]
    out = ctx.actions.declare_file(ctx.label.name + "/" + ctx.label.name)
    bpf_obj = ctx.actions.declare_file(ctx.label.name + "/" + skel + ".bpf.o")
    hdr_dirs = {h.dirname: None for h in ctx.files.hdrs + ctx.files.bpf_srcs + ctx.files.srcs}
    args = ctx.actions.args()
    args.add_all([
        tc.dir.path,
        tc.source_root,
        bpf_src.path,
        skel,
        ctx.attr.struct_ops or (skel + "_ops"),
        ctx.attr.ops_name,
        out.path,
        bpf_obj.path,
        " ".join(hdr_dirs.keys()),
        " ".join([h.basename for h in ctx.files.hdrs]),
    ])
    args.add_all(ctx.files.srcs)
    ctx.actions.run(
        executable = ctx.file._build_script,
        arguments = [args],
        inputs = depset(ctx.files.bpf_srcs + ctx.files.srcs + ctx.files.hdrs + [tc.dir, ctx.file._host_tools], transitive = [tc.source_files]),
        outputs = [out, bpf_obj],
        mnemonic = "KtstrBpfScheduler",
        env = ACTION_ENV,
        progress_message = "Building BPF scheduler %s" % ctx.label,
    )
    return [
        DefaultInfo(files = depset([out]), executable = out),
        OutputGroupInfo(bpf_object = depset([bpf_obj])),
        KtstrSchedulerInfo(
            name = ctx.attr.display_name or ctx.label.name,
            binary = out,
            runtime_files = depset(ctx.files.data),
            args = ctx.attr.default_args,
            ops_name = ctx.attr.ops_name,
            init_cpu = ctx.attr.init_cpu,
        ),
    ]

ktstr_bpf_scheduler = rule(
    implementation = _bpf_scheduler_impl,
    executable = True,
    doc = "A sched_ext scheduler from sources: one <name>.bpf.c plus its userspace loader.",
    attrs = {
        "bpf_srcs": attr.label_list(allow_files = [".bpf.c"], mandatory = True),
        "srcs": attr.label_list(allow_files = [".c"], mandatory = True),
        "hdrs": attr.label_list(allow_files = [".h"]),
        "data": attr.label_list(allow_files = True, doc = "files the loader needs in the guest"),
        "toolchain": attr.label(default = Label("//schedulers:sched_ext"), providers = [KtstrBpfToolchainInfo]),
        "default_args": attr.string_list(doc = "default loader arguments"),
        "ops_name": attr.string(mandatory = True, doc = "the name /sys/kernel/sched_ext/root/ops shows"),
        "init_cpu": attr.int(default = -1, doc = _INIT_CPU_DOC),
        "struct_ops": attr.string(doc = "the SCX_OPS_DEFINE variable (default <skeleton>_ops), for the shared loader"),
        "_build_script": attr.label(default = Label("//rules:private/build_bpf_scheduler.sh"), allow_single_file = True),
        "_host_tools": attr.label(default = Label("@ktstr_host_tools//:bpf.txt"), allow_single_file = True),
        "display_name": attr.string(),
    },
)

def _selftests_impl(ctx):
    kernel = ctx.attr.kernel[KtstrKernelInfo]
    srcs = ctx.files.source
    root = _source_root(srcs)
    out = ctx.actions.declare_file(ctx.label.name + "/runner")
    ctx.actions.run_shell(
        command = """set -euo pipefail
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! make -s -C "{root}/tools/testing/selftests/sched_ext" OUTPUT="$work" VMLINUX_BTF="$PWD/{vmlinux}" \
     CLANG=clang-19 LLVM_STRIP=llvm-strip-19 -j2 > "$work.log" 2>&1; then
  tail -n 80 "$work.log" >&2
  echo "ktstr: building the sched_ext selftests failed (log tail above)" >&2
  exit 1
fi
cp "$work/runner" {out}
""".format(root = "$PWD/" + root, vmlinux = kernel.vmlinux.path, out = out.path),
        inputs = srcs + [kernel.vmlinux, ctx.file._host_tools],
        outputs = [out],
        mnemonic = "KtstrSchedExtSelftests",
        progress_message = "Building the sched_ext selftests runner for %s" % ctx.attr.kernel.label,
        execution_requirements = {"cpu:2": ""},
        env = ACTION_ENV,
    )
    return [DefaultInfo(files = depset([out]), executable = out)]

ktstr_sched_ext_selftests = rule(
    implementation = _selftests_impl,
    executable = True,
    doc = "The kernel's tools/testing/selftests/sched_ext runner (BPF programs built in).",
    attrs = {
        "kernel": attr.label(mandatory = True, providers = [KtstrKernelInfo]),
        "source": attr.label(mandatory = True, allow_files = True, doc = "the kernel's :tools_sources"),
        "_host_tools": attr.label(default = Label("@ktstr_host_tools//:bpf.txt"), allow_single_file = True),
    },
)

def _scheduler_impl(ctx):
    binary = ctx.file.binary
    return [
        DefaultInfo(files = depset([binary] if binary else [])),
        KtstrSchedulerInfo(
            name = ctx.attr.display_name or ctx.label.name,
            binary = binary,
            runtime_files = depset(ctx.files.data),
            args = ctx.attr.default_args,
            ops_name = ctx.attr.ops_name,
            init_cpu = ctx.attr.init_cpu,
        ),
    ]

ktstr_scheduler = rule(
    implementation = _scheduler_impl,
    doc = "A scheduler from a prebuilt binary, or EEVDF (no binary).",
    attrs = {
        "binary": attr.label(allow_single_file = True, doc = "the loader; omit for EEVDF"),
        "data": attr.label_list(allow_files = True),
        "default_args": attr.string_list(doc = "default loader arguments"),
        "ops_name": attr.string(),
        "init_cpu": attr.int(default = -1, doc = _INIT_CPU_DOC),
        "display_name": attr.string(),
    },
)
