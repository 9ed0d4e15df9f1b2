"""Entry point of every ktstr_verifier_test target (see rules/private/verifier.bzl)."""

import sys

from ktstr.verifier.bazel_test import main

if __name__ == "__main__":
    sys.exit(main())
