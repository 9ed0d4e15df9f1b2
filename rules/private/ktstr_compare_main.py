"""Entry point of every ktstr_compare_test target (see rules/private/compare.bzl)."""

import sys

from ktstr.cli.bazel_compare import main

if __name__ == "__main__":
    sys.exit(main())
