"""ktstr_verifier_test: verifier cells, the BPF verifier's figures for schedulers on one kernel.

One VM of `kernel` loads every BPF program of each scheduler in turn, through the real loader
with an LD_PRELOAD shim (//schedulers:libktstr_verifier.so) that records the verifier's
figures and stops the loader before it attaches. Each scheduler is one test case; its budget
(ktstr/verifier/budget.py) is a check the user sets.
"""

load("//rules:private/needs_ktstr_dependencies.bzl", "py_test")
load("//rules:private/test.bzl", "EngineFlagInfo")
load("//rules:providers.bzl", "KtstrKernelInfo", "KtstrSchedulerInfo")

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
            "binary": info.binary.short_path,
            "args": list(info.args),
            "runtime_files": [f.short_path for f in runtime],
            "budget": budgets.pop(str(target.label), ""),
        })
    if budgets:
        fail("%s: budgets for schedulers not in `schedulers`: %s" % (ctx.label, ", ".join(sorted(budgets))))
    engine = ctx.attr.engine or ctx.attr._engine_flag[EngineFlagInfo].value
    vmm_library = ""
    if engine in ("", "auto", "vmm"):
        files.append(ctx.file._vmm_library)
        vmm_library = ctx.file._vmm_library.short_path

    # QEMU's version is part of the test's key, as for ktstr_test.
    files.append(ctx.file._qemu_version)
    config = {
        "suite": str(ctx.label).replace("_ktstr_verifier_config", ""),
        "kernel": kernel.bzimage.short_path,
        "shim": ctx.file.shim.short_path,
        "schedulers": schedulers,
        "topology": ctx.attr.topology,
        "memory_mib": ctx.attr.memory_mib,
        "vm_timeout_s": ctx.attr.vm_timeout,
        "engine": engine,
        "cmdline": ctx.attr.cmdline,
        "expect_fail": ctx.attr.expect_fail,
        "vmm_library": vmm_library,
    }
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(out, json.encode(config))
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = files + [out]))]

_ktstr_verifier_config = rule(
    implementation = _config_impl,
    attrs = {
        "kernel": attr.label(mandatory = True, providers = [KtstrKernelInfo]),
        "schedulers": attr.label_list(mandatory = True, providers = [KtstrSchedulerInfo]),
        "budgets": attr.label_keyed_string_dict(providers = [KtstrSchedulerInfo]),
        "shim": attr.label(default = Label("//schedulers:libktstr_verifier.so"), allow_single_file = True),
        "topology": attr.string(),
        "memory_mib": attr.int(default = 0),
        "vm_timeout": attr.int(default = 300),
        "engine": attr.string(),
        "cmdline": attr.string(),
        "expect_fail": attr.string(),
        "_engine_flag": attr.label(default = Label("//rules:engine")),
        "_vmm_library": attr.label(default = Label("//vmm:libktstr_vmm.so"), allow_single_file = True),
        "_qemu_version": attr.label(default = Label("@ktstr_host_tools//:qemu.txt"), allow_single_file = True),
    },
)

def ktstr_verifier_test(
        name,
        kernel,
        schedulers,
        budgets = {},
        topology = "",
        memory_mib = None,
        vm_timeout_s = 300,
        engine = "",
        cmdline = "",
        expect_fail = "",
        tags = [],
        size = "large",
        **kwargs):
    """Verifier cells: every BPF program of each scheduler loaded on `kernel`, figures recorded.

    Args:
      name: target name.
      kernel: a ktstr_kernel target.
      schedulers: ktstr_bpf_scheduler / ktstr_scheduler targets with a binary (libbpf loaders
        linked dynamically against libc: the shim wraps libc's syscall()).
      budgets: {scheduler label: "insns=200000,peak_states=5000,total_insns=400000"}: a plain
        key bounds the largest program, total_<key> the sum (keys: insns, total_states,
        peak_states, max_states_per_insn, mark_read, time_us, verified_insns).
      topology: guest topology ("" = 1n1l2c1t; the figures hardly depend on it).
      memory_mib: guest memory (None: the runner's default for the topology).
      vm_timeout_s: seconds before the VM is killed.
      engine: as for ktstr_test.
      cmdline: as for ktstr_test.
      expect_fail: negative test: every scheduler's case must show a finding with this text
        (e.g. the verifier's reason for a fixture it rejects) and no finding it does not
        cover (known failures, matched per finding: ktstr/host/expectations.py).
      tags: extra tags.
      size: Bazel test size.
      **kwargs: passed to the py_test.
    """
    config = name + "_ktstr_verifier_config"
    _ktstr_verifier_config(
        name = config,
        testonly = True,
        tags = ["manual"],  # the test's dependency only (see _ktstr_target in test.bzl)
        kernel = kernel,
        schedulers = schedulers,
        budgets = budgets,
        topology = topology,
        memory_mib = memory_mib or 0,
        vm_timeout = vm_timeout_s,
        engine = engine,
        cmdline = cmdline,
        expect_fail = expect_fail,
        visibility = ["//visibility:private"],
    )
    main = Label("//rules:private/ktstr_verifier_main.py")
    py_test(
        name = name,
        srcs = [main],
        main = main,
        deps = [Label("//ktstr")],
        data = [":" + config],
        args = ["--config", "$(rootpath :%s)" % config],
        python_version = "PY3",
        srcs_version = "PY3",
        size = size,
        tags = tags + ["ktstr"],
        **kwargs
    )
