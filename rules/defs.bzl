"""ktstr's public Starlark API: the only file users load.

    load("@ktstr//rules:defs.bzl", "ktstr_kernel", "ktstr_test", ...)

Each name is defined in its own file under rules/private/ (one rule or macro each) and the
providers in rules/providers.bzl; this file only re-exports them.
"""

load("//rules:private/bpf_scheduler.bzl", _ktstr_bpf_scheduler = "ktstr_bpf_scheduler")
load("//rules:private/compare.bzl", _ktstr_compare_test = "ktstr_compare_test")
load("//rules:private/initramfs.bzl", _ktstr_initramfs = "ktstr_initramfs")
load("//rules:private/kernel.bzl", _ktstr_kernel = "ktstr_kernel")
load("//rules:private/ktstr_gauntlet.bzl", _ktstr_gauntlet = "ktstr_gauntlet")
load("//rules:private/ktstr_selftests_test.bzl", _ktstr_selftests_test = "ktstr_selftests_test")
load("//rules:private/ktstr_shell.bzl", _ktstr_shell = "ktstr_shell")
load("//rules:private/ktstr_test.bzl", _ktstr_test = "ktstr_test")
load("//rules:private/matrix.bzl", _ktstr_matrix = "ktstr_matrix")
load(
    "//rules:private/platform.bzl",
    _KTSTR_COMPATIBLE_WITH = "KTSTR_COMPATIBLE_WITH",
    _REQUIRES_KVM = "REQUIRES_KVM",
)
load("//rules:private/presets.bzl", _TOPOLOGY_PRESETS = "TOPOLOGY_PRESETS")
load("//rules:private/sched_ext_selftests.bzl", _ktstr_sched_ext_selftests = "ktstr_sched_ext_selftests")
load("//rules:private/sched_ext_toolchain.bzl", _ktstr_sched_ext_toolchain = "ktstr_sched_ext_toolchain")
load("//rules:private/scheduler.bzl", _ktstr_scheduler = "ktstr_scheduler")
load("//rules:private/verifier.bzl", _ktstr_verifier_test = "ktstr_verifier_test")
load(
    ":providers.bzl",
    _KtstrBpfToolchainInfo = "KtstrBpfToolchainInfo",
    _KtstrInitramfsInfo = "KtstrInitramfsInfo",
    _KtstrKernelInfo = "KtstrKernelInfo",
    _KtstrSchedulerInfo = "KtstrSchedulerInfo",
)

KtstrKernelInfo = _KtstrKernelInfo
KtstrSchedulerInfo = _KtstrSchedulerInfo
KtstrInitramfsInfo = _KtstrInitramfsInfo

ktstr_kernel = _ktstr_kernel
ktstr_initramfs = _ktstr_initramfs
ktstr_test = _ktstr_test
ktstr_gauntlet = _ktstr_gauntlet
ktstr_shell = _ktstr_shell
TOPOLOGY_PRESETS = _TOPOLOGY_PRESETS
ktstr_selftests_test = _ktstr_selftests_test
KtstrBpfToolchainInfo = _KtstrBpfToolchainInfo
ktstr_bpf_scheduler = _ktstr_bpf_scheduler
ktstr_sched_ext_selftests = _ktstr_sched_ext_selftests
ktstr_sched_ext_toolchain = _ktstr_sched_ext_toolchain
ktstr_scheduler = _ktstr_scheduler
ktstr_compare_test = _ktstr_compare_test
ktstr_verifier_test = _ktstr_verifier_test
ktstr_matrix = _ktstr_matrix

# x86_64 Linux: the target_compatible_with of every ktstr target, for your own targets that
# use ktstr's outputs; and the tag of VM tests that need /dev/kvm (docs/remote-execution.md).
KTSTR_COMPATIBLE_WITH = _KTSTR_COMPATIBLE_WITH
REQUIRES_KVM = _REQUIRES_KVM
