"""pytest_test: a py_test that runs pytest over its sources (the project's own tests)."""

load("@rules_python//python:defs.bzl", "py_test")

def pytest_test(name, srcs, deps = [], data = [], args = [], **kwargs):
    """One Bazel test target running pytest on `srcs`.

    Each source file is passed to pytest; plain `pytest` from the repository root runs the
    same files. Depends on //ktstr by default.
    """
    py_test(
        name = name,
        srcs = srcs + ["//tools/pytest:pytest_main.py"],
        main = "//tools/pytest:pytest_main.py",
        deps = deps + ["//ktstr", "@ktstr_pip//:pytest"],
        data = data,
        args = args + ["$(rootpath %s)" % s for s in srcs],
        python_version = "PY3",
        srcs_version = "PY3",
        **kwargs
    )
