"""nested_bazel_test: a pytest_test that runs a nested Bazel over the checkout."""

load("//tools/pytest:defs.bzl", "pytest_test")

def nested_bazel_test(name, srcs, sandboxed = False, tags = [], deps = [], **kwargs):
    """A pytest_test driving a nested Bazel through //tests:nested_bazel.

    `external`: its real inputs are the whole checkout, which Bazel cannot see, so it never
    serves a cached PASS; `no-remote`: it runs where the checkout is. Unless `sandboxed`, it
    also runs outside the sandbox (it reads the checkout and the shared disk cache).

    Args:
      name: the test's name.
      srcs: the test's sources (pytest runs each).
      sandboxed: whether the test may run in the sandbox (it reads nothing outside it).
      tags: more tags, besides the ones above.
      deps: more deps, besides //tests:nested_bazel.
      **kwargs: passed on to pytest_test.
    """
    pytest_test(
        name = name,
        srcs = srcs,
        tags = sorted(tags + ["external", "no-remote"] + ([] if sandboxed else ["no-sandbox"])),
        deps = ["//tests:nested_bazel"] + deps,
        **kwargs
    )
