"""The checkout a lint test reads.

Lint and docs checks look at the whole tree (every Python file, every path a doc names), so
they read the source tree itself rather than declared inputs; their targets are tagged
`external` so Bazel never serves a cached result for them. Under Bazel the test's data files
are symlinks into the checkout; run by plain pytest from the root they are the files.
"""

from pathlib import Path

# The directories whose Python the lint gate covers.
LINT_ROOTS = ("ktstr", "tests", "tools", "sched", "vmm/tests", "kernels", "rules")


def root() -> Path:
    return Path("pyproject.toml").resolve().parent
