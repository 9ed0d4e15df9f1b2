"""Entry point of every ktstr_test target (see rules/private/test.bzl)."""

import sys

from ktstr.cli.bazel_test import main

if __name__ == "__main__":
    sys.exit(main())
