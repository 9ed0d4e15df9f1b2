"""ktstr_verifier_test: verifier cells, the BPF verifier's figures for schedulers on one kernel.

One VM of `kernel` loads every BPF program of each scheduler in turn, through the real loader
with an LD_PRELOAD shim (//schedulers:libktstr_verifier.so) that records the verifier's
figures and stops the loader before it attaches. Each scheduler is one test case; its budget
(ktstr/verifier/budget.py) is a check the user sets.
"""

load("//rules:private/needs_ktstr_dependencies.bzl", "py_test")
load("//rules:private/platform.bzl", "compatible_with", "vm_test_tags")
load("//rules:private/verifier_config_rule.bzl", "VERIFIER_CONFIG_SUFFIX", "ktstr_verifier_config")

def ktstr_verifier_test(
        name,
        kernel,
        schedulers,
        budgets = {},
        topology = "",
        memory_mib = None,
        vm_timeout_s = None,
        engine = "",
        cmdline = "",
        expect_fail = "",
        tags = [],
        size = "large",
        remote_exec = False,
        exec_properties = {},
        target_compatible_with = None,
        **kwargs):
    """Verifier cells: every BPF program of each scheduler loaded on `kernel`, figures recorded.

    Args:
      name: target name.
      kernel: a ktstr_kernel target.
      schedulers: ktstr_bpf_scheduler / ktstr_scheduler targets with a binary (libbpf loaders
        linked dynamically against libc: the shim wraps libc's syscall()).
      budgets: {scheduler label: "insns=200000,peak_states=5000,total_insns=400000"}: a plain
        key bounds the largest program, total_<key> the sum (keys: insns, total_states,
        peak_states, max_states_per_insn, mark_read, time_us, verified_insns).
      topology: guest topology ("" = 1n1l2c1t; the figures hardly depend on it).
      memory_mib: guest memory (None: the runner's default for the topology).
      vm_timeout_s: seconds before the VM is killed; None: the verifier job's default, 300 s
        (ktstr/wire/defaults.py).
      engine: as for ktstr_test.
      cmdline: as for ktstr_test.
      expect_fail: negative test: every scheduler's case must show a finding with this text
        (e.g. the verifier's reason for a fixture it rejects) and no finding it does not
        cover (known failures, matched per finding: ktstr/host/expectations.py).
      tags: extra tags.
      size: Bazel test size.
      remote_exec: as for ktstr_test.
      exec_properties: as for ktstr_test.
      target_compatible_with: constraints besides x86_64 Linux (rules/private/platform.bzl).
      **kwargs: passed to the py_test.
    """
    config = name + VERIFIER_CONFIG_SUFFIX
    ktstr_verifier_config(
        name = config,
        testonly = True,
        tags = ["manual"],  # the test's dependency only (see ktstr_target.bzl)
        kernel = kernel,
        schedulers = schedulers,
        budgets = budgets,
        topology = topology,
        memory_mib = memory_mib or 0,
        vm_timeout = vm_timeout_s or 0,
        engine = engine,
        cmdline = cmdline,
        expect_fail = expect_fail,
        visibility = ["//visibility:private"],
        target_compatible_with = compatible_with(target_compatible_with),
    )
    main = Label("//rules:private/ktstr_verifier_main.py")
    py_test(
        name = name,
        srcs = [main],
        main = main,
        deps = [Label("//ktstr")],
        data = [":" + config],
        args = ["--config", "$(rootpath :%s)" % config],
        python_version = "PY3",
        srcs_version = "PY3",
        size = size,
        tags = vm_test_tags(tags, engine, remote_exec) + ["ktstr"],
        exec_properties = exec_properties,
        target_compatible_with = compatible_with(target_compatible_with),
        **kwargs
    )
