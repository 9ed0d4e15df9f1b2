"""Entry point of every ktstr_shell target (see rules/private/test.bzl)."""

import sys

from ktstr.cli.bazel_test import shell_main

if __name__ == "__main__":
    sys.exit(shell_main())
