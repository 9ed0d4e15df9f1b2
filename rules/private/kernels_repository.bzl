"""@ktstr_kernels: ktstr's kernels, their fragments and the sources of their actions' tools,
as one external repository in every workspace, ktstr's own included.

Why a repository of its own: a remote cache keys an action on its command line and its
input and output paths. Reached as @ktstr, the kernel actions of a consumer hold
`external/ktstr/...` paths where ktstr's own workspace holds `kernels/...`, so no kernel
ktstr's CI built was ever a cache hit in a monorepo. Through @ktstr_kernels both compute
`external/ktstr_kernels/...`: the same keys, whichever workspace is the root and whatever
it is called. The tools run as `<ktstr's interpreter> -B -S -m <module>` on these sources
(no py_binary launcher, which holds the main workspace's name).

The repository is symlinks into the ktstr checkout (so an edit is seen at once) plus two
empty package markers; kernels/ktstr_kernels.BUILD is its BUILD file, where the kernels are
declared (//kernels has an alias of each).
"""

# The modules the kernel and layout tools import, and nothing else: any other edit of
# ktstr leaves every kernel key alone. Empty __init__.py files stand in for the real ones.
_SYMLINKS = [
    "ktstr/errors.py",
    "ktstr/kernel",
    "ktstr/monitor/btf.py",
    "ktstr/monitor/layout.py",
]
_EMPTY = ["ktstr/__init__.py", "ktstr/monitor/__init__.py"]

def _child(path, relative):
    # Bazel 4's get_child takes one name at a time.
    for name in relative.split("/"):
        path = path.get_child(name)
    return path

def _ktstr_kernels_impl(rctx):
    build = rctx.path(rctx.attr.build_file)
    root = build.dirname.dirname  # kernels/ktstr_kernels.BUILD -> the checkout
    for child in build.dirname.readdir():
        if child.basename.endswith(".kconfig"):
            rctx.symlink(child, child.basename)
    for path in _SYMLINKS:
        rctx.symlink(_child(root, path), path)
    for path in _EMPTY:
        rctx.file(path, "")
    rctx.symlink(build, "BUILD.bazel")
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

ktstr_kernels_repository = repository_rule(
    implementation = _ktstr_kernels_impl,
    doc = "ktstr's kernels and their tools' sources, one repository for every workspace (see the file doc).",
    attrs = {
        "build_file": attr.label(
            default = Label("//kernels:ktstr_kernels.BUILD"),
            doc = "the repository's BUILD file: the kernel targets",
        ),
    },
)
