import sys

from ktstr.interpreter import ensure_ktstr_python

# The packer copies the interpreter it runs on into the guest: make that ktstr's.
ensure_ktstr_python()

from ktstr.initramfs.pack import main  # noqa: E402  (after the switch)

sys.exit(main())
