"""A ktstr test's action sees ktstr's fixed PATH, whatever the caller's.

Every ktstr test is a py_test made through rules/private/needs_ktstr_dependencies.bzl, which
gives it the PATH of the actions that build kernels (host_tools.bzl's ACTION_ENV). Without
that, a monorepo without --incompatible_strict_action_env would hand each test the caller's
PATH, and a cached PASS would be keyed on who ran it. This test is such a py_test: it fails
if the PATH it was given is not that one (tests/cache/test_action_keys.py runs it under two
callers' PATHs with strict action env off and compares the two test actions' keys).
"""

import os
import re
import sys
from pathlib import Path


def fixed_path() -> str:
    bzl = Path(__file__).resolve().parents[2] / "rules" / "private" / "host_tools.bzl"
    found = re.search(r'^_PATH = "([^"]+)"$', bzl.read_text(), re.MULTILINE)
    if not found:
        sys.exit(f"no _PATH = \"...\" line in {bzl}: the fixed action PATH moved; update this test")
    return found.group(1)


def main() -> int:
    want, got = fixed_path(), os.environ.get("PATH", "")
    # Bazel's test-setup.sh puts "." in front of the action's PATH, the same for every caller.
    got = got[2:] if got.startswith(".:") else got
    if got != want:
        print(f"FAIL: the test action's PATH is {got!r}, not ktstr's fixed {want!r}", file=sys.stderr)
        return 1
    print(f"PASS: PATH={got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
