"""bzlmod (Bazel 7+) module extension for kernel sources (Bazel 4 uses repositories.bzl).

In MODULE.bazel:

    kernel = use_extension("@ktstr//rules:extensions.bzl", "kernel")
    kernel.source(
        name = "linux_6_12",
        debian_package = "linux-source-6.12",
    )
    use_repo(kernel, "linux_6_12")
"""

load(":repositories.bzl", "kernel_source")

_source = tag_class(
    doc = "One kernel_source repository; attributes as in kernel_source (repositories.bzl).",
    attrs = {
        "name": attr.string(mandatory = True),
        "debian_package": attr.string(),
        "tarball": attr.string(),
        "urls": attr.string_list(),
        "sha256": attr.string(),
        "path": attr.string(),
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
)
