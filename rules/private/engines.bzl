"""The engines a ktstr VM test can boot on, as Starlark knows them.

The same names as ktstr/host/engines/select.py's ENGINE_NAMES, in the same order
(tools/lint/test_cross_lists.py fails when the two differ). "" (not listed) means: the
--//rules:engine flag, then $KTSTR_ENGINE, then auto.
"""

ENGINES = ["auto", "qemu", "qemu-kvm", "qemu-tcg", "vmm", "vmm-nested"]

# What each engine needs, as select.py's EngineSpec fields of the same names (in ENGINES'
# order; tools/lint/test_cross_lists.py compares them): the engines that need a KVM able to
# boot Linux (their tests are tagged requires-kvm), the C VMM's library, the nested L1 host.
NEEDS_KVM = ["qemu-kvm", "vmm"]
NEEDS_VMM_LIBRARY = ["auto", "vmm"]
NEEDS_L1_HOST = ["vmm-nested"]
