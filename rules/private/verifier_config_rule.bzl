"""ktstr_verifier_config: the JSON config of one ktstr_verifier_test (verifier.bzl).

The kernel, the shim, each scheduler's loader with its runtime files and budget, and the
engine's files (attrs.bzl), as paths relative to the runfiles root.
"""

load("//rules:private/attrs.bzl", "ENGINE_ATTRS", "VM_ATTRS", "engine_runfiles", "merge_attrs", "runfile_path", "suite_name")
load("//rules:providers.bzl", "KtstrKernelInfo", "KtstrSchedulerInfo")

# The suffix ktstr_verifier_test gives the config target of test `x`.
VERIFIER_CONFIG_SUFFIX = "_ktstr_verifier_config"

def _config_impl(ctx):
    kernel = ctx.attr.kernel[KtstrKernelInfo]
    files = [kernel.bzimage, ctx.file.shim]
    schedulers = []
    budgets = {str(k.label): v for k, v in ctx.attr.budgets.items()}
    for target in ctx.attr.schedulers:
        info = target[KtstrSchedulerInfo]
        if info.binary == None:
            fail("%s: %s has no BPF programs (EEVDF is the kernel's own): leave it out" % (ctx.label, target.label))
        runtime = info.runtime_files.to_list() if info.runtime_files else []
        files += [info.binary] + runtime
        schedulers.append({
            "name": info.name,
            "binary": runfile_path(info.binary),
            "args": list(info.args),
            "runtime_files": [runfile_path(f) for f in runtime],
            "budget": budgets.pop(str(target.label), ""),
        })
    if budgets:
        fail("%s: budgets for schedulers not in `schedulers`: %s" % (ctx.label, ", ".join(sorted(budgets))))
    engine = engine_runfiles(ctx)
    files += engine.files
    config = {
        "suite": suite_name(ctx, VERIFIER_CONFIG_SUFFIX),
        "kernel": runfile_path(kernel.bzimage),
        "shim": runfile_path(ctx.file.shim),
        "schedulers": schedulers,
        "topology": ctx.attr.topology,
        "memory_mib": ctx.attr.memory_mib,
        "vm_timeout_s": ctx.attr.vm_timeout,
        "engine": engine.engine,
        "cmdline": ctx.attr.cmdline,
        "expect_fail": ctx.attr.expect_fail,
        "vmm_library": engine.vmm_library,
    }
    if engine.l1_kernel:
        # Only under vmm-nested (so the other engines' configs, and keys, are as they were).
        # ktstr/verifier/bazel_test.py does not read these yet.
        config["l1_kernel"] = engine.l1_kernel
        config["l1_initramfs"] = engine.l1_initramfs
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(out, json.encode(config))
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = files + [out]))]

ktstr_verifier_config = rule(
    implementation = _config_impl,
    doc = "The config of one ktstr_verifier_test (made by the macro; not for direct use).",
    attrs = merge_attrs(VM_ATTRS, ENGINE_ATTRS, {
        "schedulers": attr.label_list(mandatory = True, providers = [KtstrSchedulerInfo], doc = "schedulers with a binary, one test case each"),
        "budgets": attr.label_keyed_string_dict(providers = [KtstrSchedulerInfo], doc = "scheduler -> its verifier budget (ktstr/verifier/budget.py)"),
        "shim": attr.label(default = Label("//schedulers:libktstr_verifier.so"), allow_single_file = True, doc = "the LD_PRELOAD shim that records the verifier's figures"),
        "memory_mib": attr.int(default = 0, doc = "guest memory in MiB; 0 = the runner's default for the topology"),
        "vm_timeout": attr.int(doc = "seconds before the VM is killed; 0 = the verifier job's default (ktstr/wire/defaults.py)"),
        "expect_fail": attr.string(doc = "the text every scheduler's case must show a finding with"),
    }),
)
