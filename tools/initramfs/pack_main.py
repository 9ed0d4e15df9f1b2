import sys

from ktstr.initramfs.pack import main

sys.exit(main())
