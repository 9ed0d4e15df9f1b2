"""Every provider of ktstr's rules, each with the one function that makes it.

Bazel 4.2.3's provider() has no `init=`, so each provider here has a factory,
`make_<provider>(...)`, that checks every field (type, and the values that make sense) and
fails naming the field, what it expected and what it got. The factory is the only caller of
the provider: tools/lint/test_starlark.py fails on a call of a provider anywhere else.
Consumers read fields as before (`target[KtstrKernelInfo].bzimage`).
"""

load("//rules:private/engines.bzl", "ENGINES")

KtstrKernelInfo = provider(
    doc = "A kernel built by ktstr_kernel.",
    fields = {
        "bzimage": "File: the bootable bzImage",
        "vmlinux": "File: vmlinux with symbols and .BTF (DWARF stripped)",
        "config": "File: the final .config",
        "release": "File: text file with the kernel release string (uname -r)",
        "version": "string: the source version, e.g. '6.12'",
        "layout": "File: layout.json, the symbols and struct offsets the host monitor reads guest memory with (docs/monitor.md)",
    },
)

KtstrSchedulerInfo = provider(
    doc = "A sched_ext scheduler (or EEVDF when binary is None).",
    fields = {
        "name": "string: the scheduler's name in ktstr reports",
        "binary": "File or None: the userspace loader binary; None means EEVDF",
        "runtime_files": "depset of Files the binary needs at run time in the guest",
        "args": "list of strings: default arguments",
        "ops_name": "string: the name /sys/kernel/sched_ext/root/ops shows when attached",
        "init_cpu": "int: the CPU its ops.init() must run on (-1: any); the agent pins sched_ext's enable kthread there",
        "built_for": "string: the version of the kernel whose vmlinux.h its BPF side was compiled with ('' when not known); a test refuses a kernel of another major.minor",
    },
)

KtstrInitramfsInfo = provider(
    doc = "An initramfs made of one or more cpio archives, concatenated in order.",
    fields = {
        "archives": "list of Files (cpio, maybe compressed), concatenated in this order",
        "compression": "string: none, gzip, lz4 or zstd",
    },
)

KtstrBpfToolchainInfo = provider(
    doc = "bpftool, libbpf and headers built from one kernel's source, with its vmlinux.h.",
    fields = {
        "dir": "tree artifact: bin/bpftool, lib/libbpf.a, include/{vmlinux.h,bpf/*.h}",
        "source_files": "depset: the kernel tools sources (scx and libbpf headers)",
        "source_root": "string: exec path of the kernel source root",
        "kernel_version": "string: the version of the kernel whose BTF made vmlinux.h ('' when not known)",
    },
)

KtstrKernelSourceInfo = provider(
    doc = "Linux kernel source, as one tarball (the build action extracts it itself).",
    fields = {
        "tarball": "File: the source tarball (one top-level directory)",
        "version": "string: VERSION.PATCHLEVEL.SUBLEVEL read from the top Makefile",
        "sha256": "string: sha256 of the tarball as fetched ('' for a local tree)",
        "package_version": "string: the Debian package version it came from ('' otherwise)",
    },
)

EngineFlagInfo = provider(
    doc = "The engine chosen with --//rules:engine ('' = not chosen).",
    fields = {"value": "string: '' or one of rules/private/engines.bzl's ENGINES"},
)

COMPRESSIONS = ["none", "gzip", "zstd", "lz4"]

def _check(provider, field, value, types, want):
    if type(value) not in types:
        fail("%s.%s: expected %s, got %s %r" % (provider, field, want, type(value), value))

def _check_text(provider, field, value):
    _check(provider, field, value, ["string"], "a non-empty string")
    if not value:
        fail("%s.%s: expected a non-empty string, got \"\"" % (provider, field))

def _check_strings(provider, field, values):
    _check(provider, field, values, ["list", "tuple"], "a list of strings")
    for v in values:
        _check(provider, field, v, ["string"], "a list of strings")

def make_kernel_info(bzimage, vmlinux, config, release, version, layout):
    """KtstrKernelInfo, checked: five Files and a non-empty version.

    Args:
      bzimage: the field of the same name (KtstrKernelInfo's fields say what it holds).
      vmlinux: as above.
      config: as above.
      release: as above.
      version: as above.
      layout: as above.

    Returns:
      The KtstrKernelInfo.
    """
    for field, value in [("bzimage", bzimage), ("vmlinux", vmlinux), ("config", config), ("release", release), ("layout", layout)]:
        _check("KtstrKernelInfo", field, value, ["File"], "a File")
    _check_text("KtstrKernelInfo", "version", version)
    return KtstrKernelInfo(bzimage = bzimage, vmlinux = vmlinux, config = config, release = release, version = version, layout = layout)

def make_scheduler_info(name, binary, runtime_files, args, ops_name, init_cpu = -1, built_for = ""):
    """KtstrSchedulerInfo, checked; EEVDF (binary None) takes no arguments and no files.

    Args:
      name: the field of the same name (KtstrSchedulerInfo's fields say what it holds).
      binary: as above.
      runtime_files: as above.
      args: as above.
      ops_name: as above.
      init_cpu: as above.
      built_for: as above.

    Returns:
      The KtstrSchedulerInfo.
    """
    _check_text("KtstrSchedulerInfo", "name", name)
    _check("KtstrSchedulerInfo", "binary", binary, ["File", "NoneType"], "a File, or None for EEVDF")
    _check("KtstrSchedulerInfo", "runtime_files", runtime_files, ["depset"], "a depset of Files")
    _check_strings("KtstrSchedulerInfo", "args", args)
    _check("KtstrSchedulerInfo", "ops_name", ops_name, ["string"], "a string")
    _check("KtstrSchedulerInfo", "init_cpu", init_cpu, ["int"], "an int")
    _check("KtstrSchedulerInfo", "built_for", built_for, ["string"], "a kernel version string, or ''")
    if init_cpu < -1:
        fail("KtstrSchedulerInfo %s: init_cpu %d is not a CPU: give a CPU number, or -1 for any" % (name, init_cpu))
    if binary == None and (args or runtime_files.to_list()):
        fail(("KtstrSchedulerInfo %s: default_args or data given without a binary: EEVDF (no binary) " +
              "takes neither; give `binary` or drop them") % name)
    return KtstrSchedulerInfo(
        name = name,
        binary = binary,
        runtime_files = runtime_files,
        args = args,
        ops_name = ops_name,
        init_cpu = init_cpu,
        built_for = built_for,
    )

def make_initramfs_info(archives, compression):
    """KtstrInitramfsInfo, checked: one or more Files and a known compression.

    Args:
      archives: the field of the same name (KtstrInitramfsInfo's fields say what it holds).
      compression: as above.

    Returns:
      The KtstrInitramfsInfo.
    """
    _check("KtstrInitramfsInfo", "archives", archives, ["list"], "a list of Files")
    if not archives:
        fail("KtstrInitramfsInfo.archives: expected at least one archive, got []")
    for a in archives:
        _check("KtstrInitramfsInfo", "archives", a, ["File"], "a list of Files")
    if compression not in COMPRESSIONS:
        fail("KtstrInitramfsInfo.compression: expected one of %s, got %r" % (", ".join(COMPRESSIONS), compression))
    return KtstrInitramfsInfo(archives = archives, compression = compression)

def make_bpf_toolchain_info(dir, source_files, source_root, kernel_version = ""):
    """KtstrBpfToolchainInfo, checked: a tree artifact, a depset and the source root.

    Args:
      dir: the field of the same name (KtstrBpfToolchainInfo's fields say what it holds).
      source_files: as above.
      source_root: as above.
      kernel_version: as above.

    Returns:
      The KtstrBpfToolchainInfo.
    """
    _check("KtstrBpfToolchainInfo", "dir", dir, ["File"], "a tree artifact (declare_directory)")
    if not dir.is_directory:
        fail("KtstrBpfToolchainInfo.dir: expected a tree artifact (declare_directory), got the file %s" % dir.path)
    _check("KtstrBpfToolchainInfo", "source_files", source_files, ["depset"], "a depset of Files")
    _check_text("KtstrBpfToolchainInfo", "source_root", source_root)
    _check("KtstrBpfToolchainInfo", "kernel_version", kernel_version, ["string"], "a kernel version string, or ''")
    return KtstrBpfToolchainInfo(dir = dir, source_files = source_files, source_root = source_root, kernel_version = kernel_version)

def same_kernel_line(a, b):
    """Whether two kernel versions share major.minor ('' matches anything).

    Args:
      a: a version such as "6.12.118", or "".
      b: another.

    Returns:
      True when either is unknown or both are the same major.minor.
    """
    if not a or not b:
        return True
    return a.split(".")[:2] == b.split(".")[:2]

def make_kernel_source_info(tarball, version, sha256, package_version):
    """KtstrKernelSourceInfo, checked: a File, a version, '' or a 64-digit sha256.

    Args:
      tarball: the field of the same name (KtstrKernelSourceInfo's fields say what it holds).
      version: as above.
      sha256: as above.
      package_version: as above.

    Returns:
      The KtstrKernelSourceInfo.
    """
    _check("KtstrKernelSourceInfo", "tarball", tarball, ["File"], "a File")
    _check_text("KtstrKernelSourceInfo", "version", version)
    _check("KtstrKernelSourceInfo", "sha256", sha256, ["string"], "a string")
    if sha256 and (len(sha256) != 64 or sha256.lower().strip("0123456789abcdef")):
        fail("KtstrKernelSourceInfo.sha256: expected '' or 64 hex digits, got %r" % sha256)
    _check("KtstrKernelSourceInfo", "package_version", package_version, ["string"], "a string")
    return KtstrKernelSourceInfo(tarball = tarball, version = version, sha256 = sha256, package_version = package_version)

def make_engine_flag_info(value):
    """EngineFlagInfo, checked: '' or a known engine.

    Args:
      value: the field of the same name (EngineFlagInfo's fields say what it holds).

    Returns:
      The EngineFlagInfo.
    """
    if value != "" and value not in ENGINES:
        fail("EngineFlagInfo.value: expected \"\" or one of %s, got %r" % (", ".join(ENGINES), value))
    return EngineFlagInfo(value = value)
