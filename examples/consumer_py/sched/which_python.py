"""The monorepo's own code: says which interpreter the workspace's toolchain runs it on."""

import sys

print("interpreter=" + sys.executable)
