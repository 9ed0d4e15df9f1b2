"""Runs pytest on the files named on the command line, inside a Bazel test.

Writes JUnit XML where Bazel asks for it ($XML_OUTPUT_FILE) so each test function shows up
as its own test case, honours --test_filter ($TESTBRIDGE_TEST_ONLY) as a pytest -k
expression, and keeps pytest's cache out of the read-only source tree.
"""

import os
import sys

import pytest


def main() -> int:
    args = ["-p", "no:cacheprovider", "-q", "-rs"]
    xml = os.environ.get("XML_OUTPUT_FILE")
    if xml:
        args.append(f"--junitxml={xml}")
    only = os.environ.get("TESTBRIDGE_TEST_ONLY")
    if only:
        args += ["-k", only]
    args += sys.argv[1:]
    return pytest.main(args)


if __name__ == "__main__":
    sys.exit(main())
