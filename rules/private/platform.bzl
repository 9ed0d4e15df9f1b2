"""Where ktstr's targets can run, and how a VM test tells a remote executor what it needs.

Every target a ktstr rule or macro makes carries KTSTR_COMPATIBLE_WITH: the kernels are x86
kernels, the guests boot on x86_64 KVM or QEMU, the tools are Linux's. On any other target
platform Bazel skips them (`bazel test //...` on a Mac reports them SKIPPED, not failed).

VM tests get two tags (docs/remote-execution.md):
- REQUIRES_KVM when their engine cannot run without hardware virtualization (vmm, qemu-kvm);
  the other engines fall back to QEMU's TCG emulator and only run slower without KVM;
- "no-remote-exec" unless the macro's `remote_exec = True`: a remote executor runs them only
  when the user says its image boots VMs. Remote caching stays on either way.
"""

load("//rules:private/engines.bzl", "NEEDS_KVM")

# The constraint consumers can rely on: the same list on their own targets that need ktstr's.
KTSTR_COMPATIBLE_WITH = [
    Label("@platforms//os:linux"),
    Label("@platforms//cpu:x86_64"),
]

# The tag of VM tests that need /dev/kvm (no TCG fallback).
REQUIRES_KVM = "requires-kvm"

def compatible_with(extra):
    """KTSTR_COMPATIBLE_WITH plus the user's own target_compatible_with (a list or None)."""
    return KTSTR_COMPATIBLE_WITH + (extra or [])

def on_linux_x86_64(rule_fn, name, target_compatible_with, **kwargs):
    """Declares a target of rule_fn limited to x86_64 Linux (plus target_compatible_with).

    What the thin macros around ktstr's directly-called rules share.

    Args:
      rule_fn: the rule.
      name: the target's name.
      target_compatible_with: the user's further constraints, or None.
      **kwargs: the rule's attributes.
    """
    rule_fn(name = name, target_compatible_with = compatible_with(target_compatible_with), **kwargs)

def vm_test_tags(tags, engine, remote_exec):
    """The tags of a VM test.

    The user's, REQUIRES_KVM for a KVM-only engine, and "no-remote-exec" unless remote_exec.

    Args:
      tags: the user's tags.
      engine: the test's `engine` attribute ("" = the flag's, then auto).
      remote_exec: True lets a remote executor run the test.

    Returns:
      The tag list.
    """
    out = list(tags)
    if engine in NEEDS_KVM and REQUIRES_KVM not in out:
        out.append(REQUIRES_KVM)
    if not remote_exec and "no-remote-exec" not in out:
        out.append("no-remote-exec")
    return out
