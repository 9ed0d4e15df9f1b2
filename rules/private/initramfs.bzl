"""ktstr_initramfs: a deterministic initramfs layer, optionally stacked on a base image."""

load("//rules:private/host_tools.bzl", "ACTION_ENV")
load("//rules:private/platform.bzl", "on_linux_x86_64")
load("//rules:providers.bzl", "COMPRESSIONS", "KtstrInitramfsInfo", "make_initramfs_info")

_GUEST_LIB = "/opt/ktstr/lib"

def _package_path(f):
    # A file's path inside its own repository: short_path is "ktstr/x.py" in ktstr's own
    # workspace but "../ktstr/ktstr/x.py" (or "../ktstr~/...") when ktstr is an external
    # repository of the user's workspace.
    if f.short_path.startswith("../"):
        return f.short_path.split("/", 2)[2]
    return f.short_path

def _ktstr_initramfs_impl(ctx):
    manifest = {
        "files": [],
        "binaries": [],
        "python_sources": [],
        "python_runtime": ctx.attr.python,
        "init": None,
        "busybox": "/bin/busybox" if ctx.attr.busybox else None,
        "host_programs": ctx.attr.host_programs,
        "devices": ctx.attr.base == None,
    }
    inputs = []
    for target, dest in ctx.attr.files.items():
        files = target.files.to_list()
        if len(files) != 1:
            fail("ktstr_initramfs %s: files entry %s gives %d files; map exactly one file per destination" % (ctx.label, target.label, len(files)))
        manifest["files"].append({"dest": dest, "src": files[0].path})
        inputs.append(files[0])
    for target, dest in ctx.attr.binaries.items():
        exe = target[DefaultInfo].files_to_run.executable or target.files.to_list()[0]
        manifest["binaries"].append({"dest": dest, "src": exe.path})
        inputs.append(exe)
    if ctx.attr.python:
        for f in ctx.attr._ktstr[DefaultInfo].files.to_list():
            rel = _package_path(f)
            if f.extension == "py" and rel.startswith("ktstr/"):
                manifest["python_sources"].append({"dest": "%s/%s" % (_GUEST_LIB, rel), "src": f.path})
                inputs.append(f)
        inputs.append(ctx.file._python_info)
    if ctx.attr.python or ctx.attr.binaries or ctx.attr.busybox or ctx.attr.host_programs:
        inputs.append(ctx.file._host_tools)
    if ctx.attr.init == "agent":
        if not ctx.attr.python:
            fail("ktstr_initramfs %s: init = \"agent\" needs python = True" % ctx.label)
        manifest["init"] = "agent"
    elif ctx.file.init_file:
        manifest["init"] = {"src": ctx.file.init_file.path}
        inputs.append(ctx.file.init_file)

    manifest_file = ctx.actions.declare_file(ctx.label.name + ".manifest.json")
    ctx.actions.write(manifest_file, json.encode(manifest))
    suffix = {"none": "cpio", "gzip": "cpio.gz", "zstd": "cpio.zst", "lz4": "cpio.lz4"}[ctx.attr.compression]
    out = ctx.actions.declare_file("%s.%s" % (ctx.label.name, suffix))
    listing = ctx.actions.declare_file(ctx.label.name + ".list")
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = ["--manifest", manifest_file.path, "--out", out.path, "--compression", ctx.attr.compression, "--list", listing.path],
        inputs = inputs + [manifest_file],
        outputs = [out, listing],
        mnemonic = "KtstrInitramfs",
        env = ACTION_ENV,
        progress_message = "Packing initramfs %s" % ctx.label,
    )
    archives = (ctx.attr.base[KtstrInitramfsInfo].archives if ctx.attr.base else []) + [out]
    return [
        DefaultInfo(files = depset(archives + [listing]), runfiles = ctx.runfiles(files = archives)),
        make_initramfs_info(archives = archives, compression = ctx.attr.compression),
        OutputGroupInfo(listing = depset([listing])),
    ]

ktstr_initramfs_rule = rule(
    implementation = _ktstr_initramfs_impl,
    doc = """A deterministic cpio layer (sorted entries, mtime 0, uid/gid 0) for ktstr VMs.

With `base`, the result is the base's archives followed by this layer: the kernel unpacks
concatenated archives in order, so a large base (Python runtime + agent) is packed once and
each test adds a small layer.""",
    attrs = {
        "files": attr.label_keyed_string_dict(allow_files = True, doc = "file label -> guest path"),
        "binaries": attr.label_keyed_string_dict(allow_files = True, cfg = "target", doc = "executable -> guest path; its shared-library closure is packed too"),
        "python": attr.bool(default = False, doc = "pack the guest Python runtime and the ktstr package"),
        "busybox": attr.bool(default = False, doc = "pack static busybox with its applets in /usr/bin"),
        "host_programs": attr.string_list(doc = "payload programs from the host's Debian packages (hackbench, cyclictest, stress-ng) to /usr/bin, with their shared-library closure"),
        "init": attr.string(default = "", values = ["", "agent"], doc = "\"agent\": /init runs the ktstr guest agent"),
        "init_file": attr.label(allow_single_file = True, doc = "a file to use as /init instead"),
        "base": attr.label(providers = [KtstrInitramfsInfo], doc = "initramfs this layer stacks on"),
        "compression": attr.string(default = "none", values = COMPRESSIONS, doc = "archive compression (none boots fastest under TCG)"),
        "_ktstr": attr.label(default = Label("//ktstr")),
        "_python_info": attr.label(default = Label("@ktstr_python//:python_info.txt"), allow_single_file = True),
        "_host_tools": attr.label(default = Label("@ktstr_host_tools//:initramfs.txt"), allow_single_file = True),
        "_tool": attr.label(default = Label("//tools/initramfs:pack"), executable = True, cfg = "exec"),
    },
)

def ktstr_initramfs(name, target_compatible_with = None, **kwargs):
    """A deterministic cpio layer for ktstr VMs (the rule `ktstr_initramfs_rule` above).

    Limited to x86_64 Linux and `target_compatible_with` (platform.bzl); `kwargs` are the
    rule's attributes (docs/api.md).
    """
    on_linux_x86_64(ktstr_initramfs_rule, name, target_compatible_with, **kwargs)
