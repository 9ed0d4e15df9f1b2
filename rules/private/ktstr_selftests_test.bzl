"""ktstr_selftests_test: the kernel's sched_ext selftests runner in a VM, as one Bazel test."""

load("//rules:private/ktstr_target.bzl", "ktstr_vm_test")
load("//rules:private/topology.bzl", "resolve_topology")

def ktstr_selftests_test(
        name,
        runner,
        kernel,
        runner_args = [],
        topology = "1n1l2c1t",
        memory_mib = None,
        vm_timeout_s = None,
        engine = "",
        tags = [],
        size = "large",
        remote_exec = False,
        exec_properties = {},
        **kwargs):
    """The upstream sched_ext selftests runner in a VM; each selftest is one JUnit test case.

    Args:
      name: target name.
      runner: the selftests `runner` binary (tools/testing/selftests/sched_ext).
      kernel: a ktstr_kernel target; the runner must be built against its headers/BTF.
      runner_args: runner arguments, e.g. ["-t", "create_dsq"].
      topology: guest topology.
      memory_mib: guest memory; None: the selftests job's default, 512 MiB (ktstr/wire/defaults.py).
      vm_timeout_s: seconds before the VM is killed and reported hung; None: the selftests
        job's default, 240 s (ktstr/wire/defaults.py).
      engine: as for ktstr_test.
      tags: extra tags.
      size: Bazel test size ("large": the whole runner takes ~45 s under TCG).
      remote_exec: as for ktstr_test.
      exec_properties: as for ktstr_test.
      **kwargs: passed to the py_test.
    """
    topology = resolve_topology(topology)
    ktstr_vm_test(
        name,
        dict(
            kernel = kernel,
            selftests_runner = runner,
            selftests_args = runner_args,
            topology = topology,
            memory_mib = memory_mib or 0,
            vm_timeout = vm_timeout_s or 0,
            engine = engine,
        ),
        size = size,
        tags = tags,
        remote_exec = remote_exec,
        exec_properties = exec_properties,
        **kwargs
    )
