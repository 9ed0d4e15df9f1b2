"""The engines a ktstr VM test can boot on, as Starlark knows them.

The same names as ktstr/host/engines/select.py's ENGINE_NAMES, in the same order
(tools/lint/test_cross_lists.py fails when the two differ). "" (not listed) means: the
--//rules:engine flag, then $KTSTR_ENGINE, then auto.
"""

ENGINES = ["auto", "qemu", "qemu-kvm", "qemu-tcg", "vmm", "vmm-nested"]
