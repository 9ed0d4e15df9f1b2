"""kernel_source: a repository holding Linux kernel source for ktstr_kernel.

Four ways to get the source (exactly one):

    kernel_source(name = "linux_6_12", debian_package = "linux-source-6.12")
    kernel_source(name = "linux_6_12", tarball = "/usr/src/linux-source-6.12.tar.xz", sha256 = "...")
    kernel_source(name = "linux_6_12", urls = ["https://cdn.kernel.org/.../linux-6.12.1.tar.xz"], sha256 = "...")
    kernel_source(name = "linux_dev", path = "/home/me/linux")   # a local tree (not hashed)

`debian_package` takes the tarball the installed Debian package put in /usr/src, checked
against the md5sum dpkg recorded for it, whatever the package's version: a Debian point
release (6.12.117 -> 6.12.118) must not break a fresh machine's build. The version is
recorded (`:source` carries it) and the build's inputs are the tarball's bytes, so a new
release rebuilds the kernel and an unchanged one is a cache hit. Pin a `sha256` as well to
refuse any other release. When the package is not installed (or the host has no dpkg), the
repository still loads, so `bazel query` and `bazel build --nobuild` work on any machine; the
first action that needs the source fails, naming the package. ./bazelw passes the installed versions in
KTSTR_KERNEL_SOURCE_STAMP, so an upgraded package re-runs this rule in an existing output
base.

The repository exposes:
    :source         KtstrKernelSourceInfo (tarball + version): what ktstr_kernel's `source` takes
    :tarball        the single source tarball; the kernel build action extracts it itself,
                    which takes ~14 s instead of staging ~80k input files
    :tools_sources  the extracted tools/, UAPI headers and helpers needed to build
                    tools/sched_ext, bpftool and libbpf against this kernel
    :kconfig_files  every Kconfig file (to explain why an option did not stick)
"""

load("//rules:private/host_tools.bzl", "failing_genrule", "ktstr_host_tools")
load("//rules:private/kernels_repository.bzl", "ktstr_kernels_repository")
load("//rules:private/python_repositories.bzl", "DEFAULT_PYTHON", "ktstr_pip", "ktstr_python_configure")

_SOURCE_INFO_BZL = Label("//rules:private/kernel_source.bzl")

def _absolute_label(label):
    # Bazel 4 prints labels of the main repository as "//<pkg>:<name>", which inside the generated
    # repository would mean that repository itself; name ktstr's repository explicitly.
    text = str(label)
    return "@ktstr" + text if text.startswith("//") else text

_BUILD = """\
load("{source_info_bzl}", "kernel_source_info")

package(default_visibility = ["//visibility:public"])

exports_files(["{tarball}"])

kernel_source_info(
    name = "source",
    tarball = "{tarball}",
    version = "{version}",
    sha256 = "{sha256}",
    package_version = "{package_version}",
)

filegroup(
    name = "tarball",
    srcs = ["{tarball}"],
)

filegroup(
    name = "tools_sources",
    srcs = glob(
        [
            "src/tools/**",
            "src/include/uapi/**",
            "src/include/linux/**",
            "src/include/asm-generic/**",
            "src/include/vdso/**",
            "src/arch/x86/include/**",
            "src/arch/x86/lib/**",
            "src/arch/x86/tools/**",
            "src/scripts/**",
            "src/kernel/bpf/disasm.c",
            "src/kernel/bpf/disasm.h",
            "src/lib/ctype.c",
            "src/lib/rbtree.c",
            "src/lib/string.c",
            "src/lib/hweight.c",
            "src/lib/bitmap.c",
            "src/lib/find_bit.c",
            "src/lib/list_sort.c",
            "src/lib/argv_split.c",
            "src/lib/zalloc.c",
            "src/Makefile",
            "src/COPYING",
        ],
        exclude = ["**/* *"],
        allow_empty = True,
    ),
)

filegroup(
    name = "kconfig_files",
    srcs = glob(["src/**/Kconfig*"], exclude = ["**/* *"]),
)
"""

def _sha256_of(rctx, path):
    res = rctx.execute(["sha256sum", str(path)], timeout = 300)
    if res.return_code != 0:
        fail("kernel_source(%s): cannot hash %s: %s" % (rctx.name, path, res.stderr))
    return res.stdout.split(" ")[0].strip()

def _extract(rctx, tarball):
    # tar(1) is much faster than rctx.extract on a 1.7 GB tree and strips the top directory
    # whatever its name (linux-6.12.1/, linux-source-6.12/).
    rctx.execute(["mkdir", "-p", "src"])
    res = rctx.execute(
        ["tar", "-xf", str(tarball), "-C", "src", "--strip-components=1"],
        timeout = 1200,
    )
    if res.return_code != 0:
        fail("kernel_source(%s): extracting %s failed: %s" % (rctx.name, tarball, res.stderr))

def _makefile_version(rctx):
    fields = {}
    for line in rctx.read("src/Makefile").splitlines()[:12]:
        parts = line.split("=", 1)
        if len(parts) == 2:
            fields[parts[0].strip()] = parts[1].strip()
    version = ".".join([fields.get(k, "") for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL")])
    if not fields.get("VERSION"):
        fail("kernel_source(%s): src/Makefile has no VERSION line: not a kernel tree" % rctx.name)
    return version + fields.get("EXTRAVERSION", "")

def _debian_tarball(rctx, package):
    """The tarball of an installed Debian linux-source package, verified by dpkg's md5sum.

    Returns (path, Debian version), or (None, why) when the package is not there.
    """
    install_hint = "apt-get install %s (./bazelw installs it)" % package
    if rctx.which("dpkg-query") == None:
        return None, ("kernel_source(%s): debian_package = %s needs a Debian host (no dpkg-query on PATH). " +
                      "Elsewhere declare the source with tarball + sha256, urls + sha256 or path " +
                      "(see kernels/README.md)") % (rctx.name, package)
    res = rctx.execute(["dpkg-query", "-W", "-f=${db:Status-Abbrev}|${Version}", package])
    if res.return_code != 0 or not res.stdout.startswith("ii"):
        return None, "kernel_source(%s): Debian package %s is not installed. Install it: %s" % (
            rctx.name,
            package,
            install_hint,
        )
    deb_version = res.stdout.split("|", 1)[1].strip()
    md5sums = rctx.path("/var/lib/dpkg/info/%s.md5sums" % package)
    tarball = None
    expected_md5 = None
    if md5sums.exists:
        for line in rctx.read(md5sums).splitlines():
            parts = line.split("  ", 1)
            if len(parts) == 2 and parts[1].startswith("usr/src/") and parts[1].endswith(".tar.xz"):
                tarball, expected_md5 = "/" + parts[1], parts[0]
    if not tarball:
        tarball = "/usr/src/%s.tar.xz" % package
    src = rctx.path(tarball)
    if not src.exists:
        return None, "kernel_source(%s): %s (from %s %s) is missing. Reinstall: apt-get install --reinstall %s" % (
            rctx.name,
            tarball,
            package,
            deb_version,
            package,
        )
    if expected_md5:
        res = rctx.execute(["md5sum", str(src)], timeout = 300)
        actual_md5 = res.stdout.split(" ")[0].strip()
        if res.return_code != 0 or actual_md5 != expected_md5:
            fail(("kernel_source(%s): %s does not match what dpkg installed for %s %s " +
                  "(md5 %s, dpkg recorded %s). Reinstall: apt-get install --reinstall %s") %
                 (rctx.name, tarball, package, deb_version, actual_md5, expected_md5, package))
    return src, deb_version

# A Debian source package that is not installed (or no Debian at all): the repository still
# loads, so queries and analysis (`build --nobuild`) work on any machine; only an action that
# needs the source fails, with the message saying what to install or declare instead.
_MISSING_BUILD = """\
load("{source_info_bzl}", "kernel_source_info")

package(default_visibility = ["//visibility:public"])

kernel_source_info(
    name = "source",
    tarball = ":linux-missing.tar.xz",
    version = "missing",
)

alias(
    name = "tarball",
    actual = ":missing",
)

filegroup(
    name = "kconfig_files",
    srcs = [],
)
"""

def _missing_source(rctx, message):
    rctx.file("BUILD.bazel", _MISSING_BUILD.format(source_info_bzl = _absolute_label(_SOURCE_INFO_BZL)) +
                             failing_genrule("missing", "linux-missing.tar.xz", message) +
                             failing_genrule("tools_sources", "src/tools/sched_ext/Makefile", message))
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

def _kernel_source_impl(rctx):
    modes = [m for m in ("debian_package", "tarball", "urls", "path") if getattr(rctx.attr, m)]
    if len(modes) != 1:
        fail("kernel_source(%s): set exactly one of debian_package, tarball, urls, path (got: %s)" %
             (rctx.name, ", ".join(modes) or "none"))
    mode = modes[0]
    sha256 = rctx.attr.sha256
    package_version = ""
    if mode == "debian_package":
        src, package_version = _debian_tarball(rctx, rctx.attr.debian_package)
        if src == None:
            _missing_source(rctx, package_version)  # the second value says why
            return
        tarball = src.basename
        rctx.symlink(src, tarball)
        actual = _sha256_of(rctx, src)
        if sha256 and actual != sha256:
            fail(("kernel_source(%s): %s from %s %s has sha256 %s, but sha256 pins %s. Update " +
                  "the pin if the new release is intended, or drop sha256 to follow Debian.") %
                 (rctx.name, src, rctx.attr.debian_package, package_version, actual, sha256))
        sha256 = actual
    elif mode == "path":
        tree = rctx.path(rctx.attr.path)
        if not tree.get_child("Makefile").exists:
            fail("kernel_source(%s): path %s is not a kernel source tree (no Makefile)" % (rctx.name, tree))

        # One tarball of the tree keeps the build action's inputs small; uncompressed so it
        # is cheap to write and read.
        tarball = "linux.tar"
        res = rctx.execute([
            "tar",
            "-cf",
            tarball,
            "--exclude=.git",
            "--sort=name",
            "--mtime=@0",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "-C",
            str(tree.dirname),
            tree.basename,
        ], timeout = 1200)
        if res.return_code != 0:
            fail("kernel_source(%s): packing %s failed: %s" % (rctx.name, tree, res.stderr))
        sha256 = ""
    else:
        if not sha256:
            fail(("kernel_source(%s): sha256 is required with %s (a source must be pinned); " +
                  "compute it with sha256sum") % (rctx.name, mode))
        if mode == "tarball":
            src = rctx.path(rctx.attr.tarball)
            if not src.exists:
                fail(("kernel_source(%s): tarball %s does not exist. On Debian: apt-get install " +
                      "linux-source-6.12 (or ./bazelw, which installs it)") % (rctx.name, src))
            name = src.basename
            rctx.symlink(src, name)
            actual = _sha256_of(rctx, src)
        else:
            name = rctx.attr.urls[0].split("/")[-1].split("?")[0]
            rctx.download(url = rctx.attr.urls, output = name, sha256 = sha256)
            actual = sha256
        if actual != sha256:
            fail(("kernel_source(%s): %s has sha256 %s, expected %s. The file changed (a new " +
                  "Debian package?): update sha256 if the new source is intended.") %
                 (rctx.name, rctx.attr.tarball, actual, sha256))
        tarball = name
    _extract(rctx, rctx.path(tarball))
    version = _makefile_version(rctx)
    rctx.file("BUILD.bazel", _BUILD.format(
        source_info_bzl = _absolute_label(_SOURCE_INFO_BZL),
        tarball = tarball,
        version = version,
        sha256 = sha256,
        package_version = package_version,
    ))
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

kernel_source = repository_rule(
    implementation = _kernel_source_impl,
    doc = "Linux kernel source from a Debian package, a local tarball, URLs, or a local tree (see the file doc).",
    environ = ["KTSTR_KERNEL_SOURCE_STAMP"],
    attrs = {
        "debian_package": attr.string(doc = "Name of an installed Debian linux-source-X.Y package."),
        "tarball": attr.string(doc = "Absolute path of a local source tarball (with sha256)."),
        "urls": attr.string_list(doc = "Download URLs of a source tarball (with sha256)."),
        "sha256": attr.string(doc = "sha256 of the tarball; required with tarball and urls, optional pin with debian_package."),
        "path": attr.string(doc = "Absolute path of a local kernel source tree (not pinned)."),
    },
)

# --- Everything a workspace using ktstr needs (WORKSPACE mode; bzlmod: extensions.bzl) ---

def _local_shim_impl(rctx):
    root = rctx.path(rctx.attr.marker).dirname
    for child in root.readdir():
        rctx.symlink(child, child.basename)

_local_shim = repository_rule(
    implementation = _local_shim_impl,
    doc = "A small local repository shipped in ktstr's third_party/ (see its README).",
    attrs = {"marker": attr.label(mandatory = True, doc = "the WORKSPACE file of the shim")},
)

_SHIMS = {
    "rules_python": Label("//third_party/rules_python:WORKSPACE"),
    "rules_cc": Label("//third_party/rules_cc:WORKSPACE"),
    "rules_java": Label("//third_party/rules_java:WORKSPACE"),
    "remote_coverage_tools": Label("//third_party/remote_coverage_tools:WORKSPACE"),
}

def ktstr_dependencies(python = DEFAULT_PYTHON, kernel_source_name = "linux_6_12", bazel4_shims = True):
    """Declares the repositories ktstr needs. Call it from your WORKSPACE after loading it.

    Repositories you declared before the call are left alone, so you can override any of
    them (e.g. your own `linux_6_12` kernel_source, or the real rules_python).

    Args:
      python: the host CPython ktstr's tools and tests run on and pack into guests, and that
        @ktstr_pip is installed for (KTSTR_PYTHON overrides it at fetch time), whatever
        Python toolchain the workspace registers. Changing it changes the keys of the
        actions that use it.
      kernel_source_name: the kernel_source repository behind @ktstr//kernels:default,
        declared here from Debian's linux-source-6.12 unless you declared it already.
      bazel4_shims: on Bazel 4/5 (offline), declare ktstr's tiny local rules_python,
        rules_cc, rules_java and remote_coverage_tools instead of downloading them.
    """

    # Debian's bazel-bootstrap 4.2.3 reports no version ("" or "no_version").
    version = getattr(native, "bazel_version", "") or ""
    major = version.split(".")[0]
    if bazel4_shims and (not major.isdigit() or int(major) < 6):
        for name, marker in _SHIMS.items():
            if not native.existing_rule(name):
                _local_shim(name = name, marker = marker)
    if not native.existing_rule("ktstr_python"):
        ktstr_python_configure(name = "ktstr_python", python = python)
    if not native.existing_rule("ktstr_pip"):
        ktstr_pip(name = "ktstr_pip", python = python)
    if not native.existing_rule("ktstr_host_tools"):
        ktstr_host_tools(name = "ktstr_host_tools")
    if not native.existing_rule("ktstr_kernels"):
        ktstr_kernels_repository(name = "ktstr_kernels")
    if kernel_source_name and not native.existing_rule(kernel_source_name):
        kernel_source(name = kernel_source_name, debian_package = "linux-source-6.12")

# A WORKSPACE-level registration, like rules_go's go_register_toolchains(): no target, no name.
# buildifier: disable=unnamed-macro
def ktstr_register_toolchains():
    """Registers @ktstr_python's interpreter as the workspace's Python toolchain.

    ktstr's own workspace does, for its own py_* targets. A monorepo does not need it:
    ktstr's tools and tests run on ktstr's interpreter whichever Python toolchain launches
    them (ktstr/interpreter.py), so keep your own (examples/consumer_py registers one).
    """
    native.register_toolchains("@ktstr_python//:toolchain")
