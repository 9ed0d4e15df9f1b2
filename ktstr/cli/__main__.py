import sys

from ktstr.cli.main import main

sys.exit(main())
