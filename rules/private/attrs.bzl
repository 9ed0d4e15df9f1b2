"""Attributes shared by ktstr's rules: the VM-test config rules' (with the engine's runfiles)
and the scheduler rules'.

ktstr_test's config rule (test_config_rule.bzl) and ktstr_verifier_test's
(verifier_config_rule.bzl) boot the same engines: ENGINE_ATTRS and engine_runfiles() are the
one place that says which files each engine adds to a test's runfiles (and so to its key).
"""

load("//rules:private/engines.bzl", "ENGINES", "NEEDS_L1_HOST", "NEEDS_VMM_LIBRARY")
load("//rules:providers.bzl", "EngineFlagInfo", "KtstrInitramfsInfo", "KtstrKernelInfo", "make_scheduler_info")

def merge_attrs(*dicts):
    """One attrs dict from several; a name given twice is an error, not an override.

    Args:
      *dicts: attrs dicts (name -> attr.*()).

    Returns:
      A new dict with every entry of each.
    """
    out = {}
    for d in dicts:
        for name, value in d.items():
            if name in out:
                fail("attribute %r declared twice" % name)
            out[name] = value
    return out

# What every VM config rule takes: the kernel, the shape and the guest's command line.
VM_ATTRS = {
    "kernel": attr.label(mandatory = True, providers = [KtstrKernelInfo], doc = "a ktstr_kernel target (KtstrKernelInfo)"),
    "topology": attr.string(doc = "\"{n}n{l}l{c}c{t}t\" after preset resolution; \"\" = the runner's or the tests' own"),
    "cmdline": attr.string(doc = "extra guest kernel command line"),
}

def _l1_label(engine, nested, by_flag):
    # engine "" defers to --//rules:engine, which only a select() can read: //rules:l1_kernel
    # and //rules:l1_initramfs are aliases that name the L1 targets when the flag says
    # vmm-nested, else nothing.
    if engine in NEEDS_L1_HOST:
        return Label(nested)
    if engine == "":
        return Label(by_flag)
    return None

# The engines engine_runfiles() gives ktstr's VMM library ("": nothing chosen, so auto).
_VMM_ENGINES = [""] + NEEDS_VMM_LIBRARY

# Computed defaults (private attributes only): their parameter names are attributes.
def _vmm_library(engine):
    return Label("//vmm:libktstr_vmm.so") if engine in _VMM_ENGINES else None

def _l1_kernel(engine):
    return _l1_label(engine, "//kernels:l1_host", "//rules:l1_kernel")

def _l1_initramfs(engine):
    return _l1_label(engine, "//vmm:l1_initramfs", "//rules:l1_initramfs")

ENGINE_ATTRS = {
    "engine": attr.string(
        values = [""] + ENGINES,
        doc = "the engine to boot on; \"\" = --//rules:engine, then $KTSTR_ENGINE, then auto (rules/private/engines.bzl)",
    ),
    "_engine_flag": attr.label(default = Label("//rules:engine")),
    # Only the engines that boot on ktstr's VMM depend on it (auto may pick it), and only a
    # vmm-nested test on the L1 host (a second kernel, from @linux_6_12): any other test's
    # analysis never reaches them.
    "_vmm_library": attr.label(default = _vmm_library, allow_single_file = True),
    "_l1_kernel": attr.label(default = _l1_kernel),
    "_l1_initramfs": attr.label(default = _l1_initramfs),
    "_qemu_version": attr.label(default = Label("@ktstr_host_tools//:qemu.txt"), allow_single_file = True),
}

# What ktstr_scheduler and ktstr_bpf_scheduler both take besides their binary.
SCHEDULER_ATTRS = {
    "data": attr.label_list(allow_files = True, doc = "files the loader needs in the guest"),
    "default_args": attr.string_list(doc = "default loader arguments"),
    "display_name": attr.string(doc = "the scheduler's name in reports (default: the target's name)"),
    "init_cpu": attr.int(
        default = -1,
        doc = ("the CPU the scheduler's ops.init() must run on (-1: any): Linux 6.12 runs it on " +
               "sched_ext's enable kthread, which the agent pins there before attaching " +
               "(ktstr/guest/enable_helper.py); scx_central needs its central CPU"),
    ),
}

def scheduler_info(ctx, binary, built_for = ""):
    """KtstrSchedulerInfo of a rule with SCHEDULER_ATTRS and an `ops_name` attribute.

    Args:
      ctx: the rule's context.
      binary: the loader (File), or None for EEVDF.
      built_for: the kernel version its BPF side was compiled against ('' when not known).

    Returns:
      The checked KtstrSchedulerInfo.
    """
    return make_scheduler_info(
        name = ctx.attr.display_name or ctx.label.name,
        binary = binary,
        runtime_files = depset(ctx.files.data),
        args = ctx.attr.default_args,
        ops_name = ctx.attr.ops_name,
        init_cpu = ctx.attr.init_cpu,
        built_for = built_for,
    )

def runfile_path(f):
    # Tests run with the workspace's runfiles directory as cwd; files of other repositories
    # sit next to it ("../repo/path"), which short_path already says.
    return f.short_path

def engine_runfiles(ctx):
    """The engine a rule with ENGINE_ATTRS boots on, and what that engine needs.

    Args:
      ctx: the rule's context (its attrs include ENGINE_ATTRS).

    Returns:
      A struct: engine (the attribute, else the flag's value), files (to add to the runfiles,
      in this order), vmm_library, l1_kernel, l1_initramfs (runfile paths, "" when unused).
    """
    engine = ctx.attr.engine or ctx.attr._engine_flag[EngineFlagInfo].value
    files = []
    vmm_library = ""
    if engine in _VMM_ENGINES:
        # The VMM is what auto picks where KVM can boot Linux; with an explicit QEMU engine
        # the library stays out, so a VMM change does not invalidate those cached results.
        files.append(ctx.file._vmm_library)
        vmm_library = runfile_path(ctx.file._vmm_library)
    l1_kernel, l1_initramfs = "", ""
    if engine in NEEDS_L1_HOST:
        # The L1 host of the nested test bed (a second kernel build), only for this engine.
        if KtstrKernelInfo not in ctx.attr._l1_kernel or KtstrInitramfsInfo not in ctx.attr._l1_initramfs:
            fail("%s: engine vmm-nested needs //kernels:l1_host and //vmm:l1_initramfs" % ctx.label)
        l1_bzimage = ctx.attr._l1_kernel[KtstrKernelInfo].bzimage
        l1_archives = ctx.attr._l1_initramfs[KtstrInitramfsInfo].archives
        if len(l1_archives) != 1:
            fail("//vmm:l1_initramfs must be one archive")
        files += [l1_bzimage] + l1_archives
        l1_kernel = runfile_path(l1_bzimage)
        l1_initramfs = runfile_path(l1_archives[0])

    # QEMU's version is part of the test's key: a QEMU upgrade re-runs cached VM tests.
    files.append(ctx.file._qemu_version)
    return struct(
        engine = engine,
        files = files,
        vmm_library = vmm_library,
        l1_kernel = l1_kernel,
        l1_initramfs = l1_initramfs,
    )

def suite_name(ctx, suffix):
    """The test's label: the config target's without the suffix its macro appended."""
    return str(ctx.label).replace(suffix, "")
