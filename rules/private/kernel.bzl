"""ktstr_kernel: a verified, reproducible, cacheable kernel build.

Two actions:
  KernelConfig  tarball + fragments -> <name>/config
                (base config -> merge fragments, last wins -> olddefconfig -> verify every
                 fragment line; a line that did not stick fails here, naming the option and
                 its unmet dependency, in well under a minute)
  KernelBuild   tarball + config -> <name>/bzImage, vmlinux, release
                (fixed KBUILD_* and path prefix maps: identical inputs give identical bytes,
                 which is what lets the disk and remote caches serve it)
  KernelLayout  vmlinux + config -> <name>/layout.json
                (symbol addresses and struct field offsets the host monitor reads guest
                 memory with; seconds, and separate so the kernel is never rebuilt for it)
"""

load("//rules:private/host_tools.bzl", "ACTION_ENV")
load("//rules:private/platform.bzl", "compatible_with")
load("//rules:providers.bzl", "KtstrKernelSourceInfo", "make_kernel_info")

def _cpu_resources(_os, _inputs):
    # make -j uses every core; tell Bazel so it does not run other actions beside it.
    return {"cpu": 2, "memory": 2048}

def _source_of(ctx):
    src = ctx.attr.source
    if KtstrKernelSourceInfo in src:
        info = src[KtstrKernelSourceInfo]
        return info.tarball, info.version
    files = src.files.to_list()
    if len(files) != 1:
        fail("%s: source must be a kernel_source repository's :source or one tarball, got %d files" %
             (ctx.label, len(files)))
    return files[0], ctx.attr.version or "unknown"

def _config_args(ctx, args):
    args.add("--base-config", ctx.attr.base_config)
    for f in ctx.files.fragments:
        args.add("--fragment", f)
    if ctx.attr.extra_config:
        args.add("--extra-config", ctx.attr.extra_config)

def _ktstr_kernel_impl(ctx):
    tarball, version = _source_of(ctx)
    python = _python(ctx)
    tool = ctx.files._kernel_tool
    config = ctx.actions.declare_file(ctx.label.name + "/config")
    bzimage = ctx.actions.declare_file(ctx.label.name + "/bzImage")
    vmlinux = ctx.actions.declare_file(ctx.label.name + "/vmlinux")
    release = ctx.actions.declare_file(ctx.label.name + "/release")
    workdir = bzimage.dirname + "/_work"

    args = _tool_args(ctx, "ktstr.kernel")
    args.add("configure")
    args.add("--source", tarball)
    args.add("--out", config)
    args.add("--workdir", config.dirname + "/_config_work")
    _config_args(ctx, args)
    ctx.actions.run(
        executable = python,
        arguments = [args],
        inputs = [tarball, ctx.file._host_tools] + ctx.files.fragments + tool,
        outputs = [config],
        mnemonic = "KernelConfig",
        progress_message = "Configuring and verifying kernel %s (Linux %s)" % (ctx.label, version),
        env = _TOOL_ENV,
    )

    args = _tool_args(ctx, "ktstr.kernel")
    args.add("build")
    args.add("--source", tarball)
    args.add("--config", config)
    args.add("--workdir", workdir)
    args.add("--jobs", "0")  # 0 = every core of the machine; not part of the cache key
    args.add("--out-bzimage", bzimage)
    args.add("--out-vmlinux", vmlinux)

    # The build re-checks that olddefconfig leaves the verified config unchanged; its copy
    # is an output only because every action output must be declared.
    build_config = ctx.actions.declare_file(ctx.label.name + "/_build.config")
    args.add("--out-config", build_config)
    args.add("--out-release", release)
    build_kwargs = {}
    if ctx.attr.declare_resources:
        build_kwargs["resource_set"] = _cpu_resources
    ctx.actions.run(
        executable = python,
        arguments = [args],
        inputs = [tarball, config, ctx.file._host_tools] + tool,
        outputs = [bzimage, vmlinux, release, build_config],
        mnemonic = "KernelBuild",
        progress_message = "Building kernel %s (Linux %s: make bzImage, ~5 min on 2 cores)" % (ctx.label, version),
        env = _TOOL_ENV,
        execution_requirements = {"cpu:2": ""},
        **build_kwargs
    )

    layout = ctx.actions.declare_file(ctx.label.name + "/layout.json")
    args = _tool_args(ctx, "ktstr.monitor.layout")
    args.add("--vmlinux", vmlinux)
    args.add("--config", config)
    args.add("--out", layout)
    ctx.actions.run(
        executable = python,
        arguments = [args],
        inputs = depset([vmlinux, config] + ctx.files._layout_tool, transitive = [_pyelftools(ctx)]),
        outputs = [layout],
        mnemonic = "KernelLayout",
        progress_message = "Reading the monitor's kernel layout of %s" % ctx.label,
        env = _TOOL_ENV,
    )

    return [
        DefaultInfo(
            files = depset([bzimage, vmlinux, config, release, layout]),
            runfiles = ctx.runfiles(files = [bzimage, vmlinux, config, release, layout]),
        ),
        make_kernel_info(
            bzimage = bzimage,
            vmlinux = vmlinux,
            config = config,
            release = release,
            version = version,
            layout = layout,
        ),
        OutputGroupInfo(config = depset([config])),
    ]

# The tools are sources of @ktstr_kernels run by ktstr's interpreter, not py_binary targets:
# a launcher holds the main workspace's name and its runfiles path, which would give every
# workspace its own kernel keys (rules/private/kernels_repository.bzl). -B: no bytecode
# written into the checkout; -S: no site-packages of the host, only what the action lists.
_TOOLS_ROOT = "external/ktstr_kernels"
_PIP_SITE = "external/ktstr_pip/site"
_TOOL_ENV = dict(ACTION_ENV, PYTHONPATH = _TOOLS_ROOT + ":" + _PIP_SITE)

def _python(ctx):
    return ctx.attr._python[PyRuntimeInfo].interpreter_path

def _tool_args(ctx, module):
    args = ctx.actions.args()
    args.add_all(["-B", "-S", "-m", module])
    return args

def _pyelftools(ctx):
    info = ctx.attr._pyelftools[PyInfo]
    return depset(transitive = [info.transitive_sources, ctx.attr._pyelftools[DefaultInfo].default_runfiles.files])

def _source_tool(label):
    return attr.label(default = Label(label), allow_files = [".py"])

ktstr_kernel_rule = rule(
    implementation = _ktstr_kernel_impl,
    doc = "Builds a Linux kernel for ktstr (see ktstr_kernel in defs.bzl).",
    attrs = {
        "source": attr.label(
            mandatory = True,
            allow_files = [".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar.zst"],
            doc = "A kernel_source repository's :source target, or a source tarball.",
        ),
        "base_config": attr.string(default = "tinyconfig", doc = "make target run first (tinyconfig, defconfig)"),
        "fragments": attr.label_list(allow_files = True, doc = "kconfig fragments, merged in order (last wins)"),
        "extra_config": attr.string(default = "", doc = "kconfig lines applied after all fragments"),
        "version": attr.string(doc = "Source version when `source` is a bare tarball."),
        "declare_resources": attr.bool(
            default = False,
            doc = "Pass resource_set (Bazel 7+); the ktstr_kernel macro sets it from the Bazel version.",
        ),
        "_host_tools": attr.label(
            default = Label("@ktstr_host_tools//:kernel.txt"),
            allow_single_file = True,
            doc = "versions of gcc, binutils, pahole, ... (an input: an upgrade rebuilds)",
        ),
        "_kernel_tool": _source_tool("@ktstr_kernels//:kernel_tool"),
        "_layout_tool": _source_tool("@ktstr_kernels//:layout_tool"),
        "_python": attr.label(
            default = Label("@ktstr_python//:py3_runtime"),
            providers = [PyRuntimeInfo],
            doc = "ktstr's interpreter (its path, the same on every Debian host), which runs the tools",
        ),
        "_pyelftools": attr.label(default = Label("@ktstr_pip//:pyelftools"), providers = [PyInfo]),
    },
)

def _bazel_supports_resource_set():
    version = getattr(native, "bazel_version", "") or ""
    major = version.split(".")[0]
    return major.isdigit() and int(major) >= 7

def ktstr_kernel(name, source, base_config = "tinyconfig", fragments = [], extra_config = "", target_compatible_with = None, **kwargs):
    """A kernel: configure (base + fragments, last wins) -> verify -> reproducible build.

    Outputs <name>/bzImage, <name>/vmlinux (DWARF stripped, symbols and .BTF kept),
    <name>/config, <name>/release and <name>/layout.json (the host monitor's symbols and
    field offsets); provides KtstrKernelInfo. `--output_groups=config`
    builds and verifies only the configuration (seconds, no compile). Limited to x86_64
    Linux, plus `target_compatible_with` (rules/private/platform.bzl).
    """
    ktstr_kernel_rule(
        name = name,
        source = source,
        base_config = base_config,
        fragments = fragments,
        extra_config = extra_config,
        declare_resources = _bazel_supports_resource_set(),
        target_compatible_with = compatible_with(target_compatible_with),
        **kwargs
    )
