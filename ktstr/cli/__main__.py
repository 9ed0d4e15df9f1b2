import sys

from ktstr.interpreter import ensure_ktstr_python

ensure_ktstr_python()  # `bazel run //:ktstr` in a monorepo with its own Python toolchain

from ktstr.cli.main import main  # noqa: E402  (after the switch)

sys.exit(main())
