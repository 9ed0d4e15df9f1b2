import sys

from ktstr.kernel.cli import main

sys.exit(main())
