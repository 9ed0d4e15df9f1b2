"""bzlmod (Bazel 7+) module extensions (Bazel 4 uses repositories.bzl's WORKSPACE macros).

In your MODULE.bazel:

    bazel_dep(name = "ktstr", version = "0.1.0")   # + git_override / local_path_override

    # Nothing for Python: ktstr's module declares its private interpreter and packages
    # (@ktstr_python, @ktstr_pip) itself, and its tools switch to that interpreter whatever
    # toolchain your workspace registers (ktstr/interpreter.py). Only to choose another
    # interpreter for ktstr:
    ktstr = use_extension("@ktstr//rules:extensions.bzl", "ktstr")
    ktstr.python(interpreter = "/usr/bin/python3.12")

    # The kernel source behind @ktstr//kernels:default. ktstr declares Debian's
    # linux-source-6.12 under this name; a root module's tag of the same name wins, e.g.
    # a kernel.org tarball:
    kernel = use_extension("@ktstr//rules:extensions.bzl", "kernel")
    kernel.source(
        name = "linux_6_12",
        urls = ["https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.12.1.tar.xz"],
        sha256 = "...",
    )
    use_repo(kernel, "linux_6_12")
"""

load(":private/host_tools.bzl", "ktstr_host_tools")
load(":private/kernels_repository.bzl", "ktstr_kernels_repository")
load(":private/python_repositories.bzl", "DEFAULT_PYTHON", "ktstr_pip", "ktstr_python_configure")
load(":repositories.bzl", "kernel_source")

_python = tag_class(
    doc = "Which host CPython ktstr's tools run on and pack into guests (the root module's wins).",
    attrs = {"interpreter": attr.string(default = DEFAULT_PYTHON, doc = "the host CPython's path (default /usr/bin/python3)")},
)

def _ktstr_impl(mctx):
    python = DEFAULT_PYTHON
    for mod in mctx.modules:
        for tag in mod.tags.python:
            python = tag.interpreter
            break
        if mod.tags.python:
            break  # the root module comes first
    ktstr_python_configure(name = "ktstr_python", python = python)
    ktstr_pip(name = "ktstr_pip", python = python)
    ktstr_host_tools(name = "ktstr_host_tools")
    ktstr_kernels_repository(name = "ktstr_kernels")

ktstr = module_extension(
    implementation = _ktstr_impl,
    tag_classes = {"python": _python},
    doc = "ktstr's private interpreter (@ktstr_python), packages (@ktstr_pip), host-tools fingerprint and kernels (@ktstr_kernels).",
)

_source = tag_class(
    doc = "One kernel_source repository; attributes as in kernel_source (repositories.bzl).",
    attrs = {
        "name": attr.string(mandatory = True, doc = "repository name, e.g. linux_6_12"),
        "debian_package": attr.string(doc = "an installed Debian linux-source-X.Y package"),
        "tarball": attr.string(doc = "absolute path of a local tarball (with sha256)"),
        "urls": attr.string_list(doc = "download URLs of a tarball (with sha256)"),
        "sha256": attr.string(doc = "the tarball's sha256 (a pin with debian_package)"),
        "path": attr.string(doc = "absolute path of a local kernel tree"),
    },
)

def _kernel_impl(mctx):
    seen = {}
    for mod in mctx.modules:
        for tag in mod.tags.source:
            if tag.name in seen:
                # The root module comes first; a dependency's request of the same name yields.
                continue
            seen[tag.name] = True
            kernel_source(
                name = tag.name,
                debian_package = tag.debian_package,
                tarball = tag.tarball,
                urls = tag.urls,
                sha256 = tag.sha256,
                path = tag.path,
            )

kernel = module_extension(
    implementation = _kernel_impl,
    tag_classes = {"source": _source},
    doc = "Kernel sources for ktstr_kernel (the root module's tag of a name wins).",
)
