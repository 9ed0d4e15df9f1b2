"""Entry point of the KernelLayout action: `layout_tool --vmlinux V --config C --out J`."""

import sys

from ktstr.monitor.layout import main

if __name__ == "__main__":
    sys.exit(main())
