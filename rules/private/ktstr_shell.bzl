"""ktstr_shell: a `bazel run` target booting the VM a ktstr_test would, with a shell."""

load("//rules:private/ktstr_target.bzl", "ktstr_target", "scheduled_vm")
load("//rules:private/needs_ktstr_dependencies.bzl", "py_binary")

def ktstr_shell(
        name,
        kernel,
        initramfs,
        scheduler = None,
        sched_args = [],
        topology = "1n1l2c1t",
        memory_mib = None,
        engine = "",
        cmdline = "",
        **kwargs):
    """A `bazel run` target: the VM a ktstr_test would boot, with a shell instead of tests.

    Kernel, initramfs, topology, the scheduler attached; an interactive shell on the terminal.
    Leaving the shell powers the VM off; Ctrl-A X quits QEMU. QEMU engines only.

    Args:
      name: target name.
      kernel: as for ktstr_test.
      initramfs: as for ktstr_test.
      scheduler: as for ktstr_test.
      sched_args: as for ktstr_test.
      topology: as for ktstr_test (default 1n1l2c1t).
      memory_mib: as for ktstr_test.
      engine: as for ktstr_test.
      cmdline: as for ktstr_test.
      **kwargs: passed to the py_binary.
    """
    ktstr_target(
        name,
        py_binary,
        "//rules:private/ktstr_shell_main.py",
        scheduled_vm(kernel, initramfs, scheduler, sched_args, topology, memory_mib, engine, cmdline),
        testonly = True,
        **kwargs
    )
