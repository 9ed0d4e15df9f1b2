"""Entry point of every ktstr_verifier_test target (see rules/private/verifier.bzl)."""

import sys

from ktstr.interpreter import ensure_ktstr_python

ensure_ktstr_python()  # before anything imports @ktstr_pip's packages

from ktstr.cli.bazel_verifier import main  # noqa: E402  (after the switch)

if __name__ == "__main__":
    sys.exit(main())
