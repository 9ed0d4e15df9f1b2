"""ktstr_test_config: the JSON config of one ktstr_test (or ktstr_shell / selftests) target.

It holds the paths of the kernel, initramfs layers, scheduler, test sources and engine files
relative to the runfiles root, and the run's options; the py_test the macro wraps around it
(ktstr_target.bzl) passes it to ktstr's Bazel entry point. Every file it names is in its
runfiles, so an unchanged kernel, scheduler, initramfs, source and attribute set means a
cached PASS.
"""

load("//rules:private/attrs.bzl", "ENGINE_ATTRS", "VM_ATTRS", "engine_runfiles", "merge_attrs", "runfile_path", "suite_name")
load("//rules:providers.bzl", "KtstrInitramfsInfo", "KtstrKernelInfo", "KtstrSchedulerInfo", "same_kernel_line")

# The suffix ktstr_target() gives the config target of test `x`: x_ktstr_config.
CONFIG_SUFFIX = "_ktstr_config"

def _config_impl(ctx):
    kernel = ctx.attr.kernel[KtstrKernelInfo]
    files = [kernel.bzimage]

    # Providers made by a user's own rule may predate the field.
    layout = getattr(kernel, "layout", None)
    if layout != None:
        files.append(layout)
    initrds = []
    for target in ctx.attr.initramfs:
        if KtstrInitramfsInfo in target:
            initrds += target[KtstrInitramfsInfo].archives
        else:
            initrds += target.files.to_list()
    files += initrds
    scheduler = None
    if ctx.attr.scheduler:
        info = ctx.attr.scheduler[KtstrSchedulerInfo]
        built_for = getattr(info, "built_for", "")
        if not same_kernel_line(built_for, kernel.version):
            fail(("%s: scheduler %s was compiled against Linux %s (its toolchain's vmlinux.h), but the test " +
                  "boots %s, Linux %s: give the scheduler `toolchain = ` a ktstr_sched_ext_toolchain of " +
                  "that kernel (kernel = %s), or boot a %s kernel") %
                 (
                     ctx.label,
                     ctx.attr.scheduler.label,
                     built_for,
                     ctx.attr.kernel.label,
                     kernel.version,
                     ctx.attr.kernel.label,
                     ".".join(built_for.split(".")[:2]),
                 ))
        if info.binary != None:
            runtime = info.runtime_files.to_list() if info.runtime_files else []
            files.append(info.binary)
            files += runtime
            scheduler = {
                "name": info.name,
                "binary": runfile_path(info.binary),
                "args": list(info.args) + ctx.attr.sched_args,
                "ops_name": info.ops_name,
                "init_cpu": info.init_cpu if info.init_cpu >= 0 else None,
                "runtime_files": [runfile_path(f) for f in runtime],
            }
    elif ctx.attr.sched_args:
        fail("sched_args given but no scheduler: EEVDF takes no arguments")
    srcs = ctx.files.srcs
    files += srcs
    selftests = ctx.file.selftests_runner
    if selftests != None:
        files.append(selftests)
    engine = engine_runfiles(ctx)
    files += engine.files
    config = {
        "suite": suite_name(ctx, CONFIG_SUFFIX),
        "kernel": runfile_path(kernel.bzimage),
        "initramfs": [runfile_path(f) for f in initrds],
        "srcs": [runfile_path(f) for f in srcs],
        "test": ctx.attr.test,
        "scheduler": scheduler,
        "topology": ctx.attr.topology,
        "memory_mib": ctx.attr.memory_mib,
        "duration": ctx.attr.duration,
        "checks": ctx.attr.checks,
        "watchdog_timeout_s": ctx.attr.watchdog_timeout_s,
        "vm_timeout_s": ctx.attr.vm_timeout,
        "engine": engine.engine,
        "expectations": ctx.attr.expectations,
        "cmdline": ctx.attr.cmdline,
        "selftests_runner": runfile_path(selftests) if selftests != None else "",
        "selftests_args": ctx.attr.selftests_args,
        "vmm_library": engine.vmm_library,
        "l1_kernel": engine.l1_kernel,
        "l1_initramfs": engine.l1_initramfs,
        "kernel_layout": runfile_path(layout) if layout != None else "",
        "monitor": ctx.attr.monitor,
    }
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(out, json.encode(config))
    return [DefaultInfo(
        files = depset([out]),
        runfiles = ctx.runfiles(files = files + [out]),
    )]

ktstr_test_config = rule(
    implementation = _config_impl,
    doc = "The config of one VM run (made by ktstr_test, ktstr_selftests_test and ktstr_shell; not for direct use).",
    attrs = merge_attrs(VM_ATTRS, ENGINE_ATTRS, {
        "srcs": attr.label_list(allow_files = [".py"], doc = "test .py files with @ktstr_test functions"),
        "test": attr.string(doc = "comma-separated test function names; \"\" = all of them"),
        "initramfs": attr.label_list(allow_files = True, doc = "ktstr_initramfs targets or cpio files, concatenated in order"),
        "selftests_runner": attr.label(allow_single_file = True, cfg = "target", doc = "the sched_ext selftests runner (instead of srcs)"),
        "selftests_args": attr.string_list(doc = "the selftests runner's arguments"),
        "scheduler": attr.label(providers = [KtstrSchedulerInfo], doc = "the scheduler; None = EEVDF"),
        "sched_args": attr.string_list(doc = "scheduler arguments after its defaults"),
        "memory_mib": attr.int(doc = "guest memory in MiB; 0 = the job's default for each boot's topology (ktstr/wire/defaults.py)"),
        "duration": attr.string(doc = "workload seconds passed to the tests; \"\" = each test's own"),
        "checks": attr.string_dict(doc = "check overrides for every test (name -> value), over the tests' own"),
        "watchdog_timeout_s": attr.string(doc = "sched_ext watchdog seconds for tests that set none"),
        "vm_timeout": attr.int(doc = "seconds per VM before it is killed and reported hung; 0 = the job's default (ktstr/wire/defaults.py)"),
        "expectations": attr.string_list(doc = "known failures, one JSON object each (see ktstr_test.bzl's expectations)"),
        "monitor": attr.string_dict(doc = "host monitor options for every test (docs/monitor.md)"),
    }),
)
