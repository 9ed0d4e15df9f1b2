"""ktstr_sched_ext_selftests: the kernel's tools/testing/selftests/sched_ext runner."""

load("//rules:private/host_tools.bzl", "ACTION_ENV")
load("//rules:private/platform.bzl", "on_linux_x86_64")
load("//rules:private/sched_ext_toolchain.bzl", "kernel_source_root", "mapped_compilers_sh")
load("//rules:providers.bzl", "KtstrKernelInfo")

def _selftests_impl(ctx):
    kernel = ctx.attr.kernel[KtstrKernelInfo]
    srcs = ctx.files.source
    root = kernel_source_root(srcs)
    out = ctx.actions.declare_file(ctx.label.name + "/runner")
    ctx.actions.run_shell(
        command = """set -euo pipefail
work="$(mktemp -d)"
trap 'rm -rf "$work" "$work.log" "$cc_dir"' EXIT
{mapped_compilers}if ! make -s -C "{root}/tools/testing/selftests/sched_ext" OUTPUT="$work" VMLINUX_BTF="$PWD/{vmlinux}" \
     CC="$cc_dir/gcc" HOSTCC="$cc_dir/gcc" CLANG="$cc_dir/clang-19" LLVM_STRIP=llvm-strip-19 -j2 > "$work.log" 2>&1; then
  tail -n 80 "$work.log" >&2
  echo "ktstr: building the sched_ext selftests failed (log tail above)" >&2
  exit 1
fi
cp "$work/runner" {out}
""".format(
            root = "$PWD/" + root,
            vmlinux = kernel.vmlinux.path,
            out = out.path,
            mapped_compilers = mapped_compilers_sh("$work"),
        ),
        inputs = srcs + [kernel.vmlinux, ctx.file._host_tools],
        outputs = [out],
        mnemonic = "KtstrSchedExtSelftests",
        progress_message = "Building the sched_ext selftests runner for %s" % ctx.attr.kernel.label,
        execution_requirements = {"cpu:2": ""},
        env = ACTION_ENV,
    )
    return [DefaultInfo(files = depset([out]), executable = out)]

ktstr_sched_ext_selftests_rule = rule(
    implementation = _selftests_impl,
    executable = True,
    doc = "The kernel's tools/testing/selftests/sched_ext runner (BPF programs built in).",
    attrs = {
        "kernel": attr.label(mandatory = True, providers = [KtstrKernelInfo], doc = "the ktstr_kernel whose BTF the selftests are built against"),
        "source": attr.label(mandatory = True, allow_files = True, doc = "the kernel's :tools_sources"),
        "_host_tools": attr.label(default = Label("@ktstr_host_tools//:bpf.txt"), allow_single_file = True),
    },
)

def ktstr_sched_ext_selftests(name, target_compatible_with = None, **kwargs):
    """The kernel's sched_ext selftests runner (the rule `ktstr_sched_ext_selftests_rule` above).

    Limited to x86_64 Linux and `target_compatible_with` (platform.bzl); `kwargs` are the
    rule's attributes (docs/api.md).
    """
    on_linux_x86_64(ktstr_sched_ext_selftests_rule, name, target_compatible_with, **kwargs)
