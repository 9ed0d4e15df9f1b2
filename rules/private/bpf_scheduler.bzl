"""ktstr_bpf_scheduler: a sched_ext scheduler from sources (.bpf.c + loader .c).

Built with a ktstr_sched_ext_toolchain: clang -target bpf -> bpftool gen object/skeleton ->
cc + libbpf.a (build_bpf_scheduler.sh).
"""

load("//rules:private/attrs.bzl", "SCHEDULER_ATTRS", "merge_attrs", "scheduler_info")
load("//rules:private/host_tools.bzl", "ACTION_ENV")
load("//rules:private/platform.bzl", "on_linux_x86_64")
load("//rules:providers.bzl", "KtstrBpfToolchainInfo")

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

    # Not executable: `bazel run` of a scheduler would attach it to the host's kernel. It runs
    # in a VM: a ktstr_shell target, or `bazel run @ktstr//:ktstr -- shell --scheduler <loader>`.
    # The loader stays in the runfiles of whatever has the target in its data.
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        OutputGroupInfo(bpf_object = depset([bpf_obj])),
        scheduler_info(ctx, out, built_for = getattr(tc, "kernel_version", "")),
    ]

ktstr_bpf_scheduler_rule = rule(
    implementation = _bpf_scheduler_impl,
    doc = """A sched_ext scheduler from sources: one <name>.bpf.c plus its userspace loader.

Not a `bazel run` target (it would attach to the host's kernel): boot it in a VM with a
ktstr_shell target, or `bazel run @ktstr//:ktstr -- shell --scheduler bazel-bin/<pkg>/<name>/<name>`.""",
    attrs = merge_attrs(SCHEDULER_ATTRS, {
        "bpf_srcs": attr.label_list(allow_files = [".bpf.c"], mandatory = True, doc = "exactly one <name>.bpf.c: the BPF side; <name> names its skeleton"),
        "srcs": attr.label_list(allow_files = [".c"], mandatory = True, doc = "the userspace loader's .c files"),
        "hdrs": attr.label_list(allow_files = [".h"], doc = "headers of either side (their directories are on the include path)"),
        "toolchain": attr.label(
            default = Label("//schedulers:sched_ext"),
            providers = [KtstrBpfToolchainInfo],
            doc = ("a ktstr_sched_ext_toolchain: bpftool, libbpf and vmlinux.h of the kernel the scheduler runs on. " +
                   "The default is @ktstr//kernels:default's (Linux 6.12); CO-RE relocates it to any build of that " +
                   "line (the debug kernel too), and a ktstr_test booting another major.minor refuses it at " +
                   "analysis, naming the toolchain to give: a ktstr_sched_ext_toolchain of that kernel"),
        ),
        "ops_name": attr.string(mandatory = True, doc = "the name /sys/kernel/sched_ext/root/ops shows"),
        "struct_ops": attr.string(doc = "the SCX_OPS_DEFINE variable (default <skeleton>_ops), for the shared loader"),
        "_build_script": attr.label(default = Label("//rules:private/build_bpf_scheduler.sh"), allow_single_file = True),
        "_host_tools": attr.label(default = Label("@ktstr_host_tools//:bpf.txt"), allow_single_file = True),
    }),
)

def ktstr_bpf_scheduler(name, target_compatible_with = None, **kwargs):
    """A sched_ext scheduler built from sources (the rule `ktstr_bpf_scheduler_rule` above).

    Limited to x86_64 Linux and `target_compatible_with` (platform.bzl); `kwargs` are the
    rule's attributes (docs/api.md).
    """
    on_linux_x86_64(ktstr_bpf_scheduler_rule, name, target_compatible_with, **kwargs)
