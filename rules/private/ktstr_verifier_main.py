"""Entry point of every ktstr_verifier_test target (see rules/private/verifier.bzl)."""

import sys

from ktstr.cli.bazel_verifier import main

if __name__ == "__main__":
    sys.exit(main())
