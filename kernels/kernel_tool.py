"""Entry point of the kernel actions (KernelConfig, KernelBuild): `python -m ktstr.kernel`."""

import sys

from ktstr.kernel.cli import main

if __name__ == "__main__":
    sys.exit(main())
