"""ktstr_target: one VM target = its JSON config (test_config_rule.bzl) + the Python entry
point reading it. ktstr_test, ktstr_selftests_test and ktstr_shell are made of it.
"""

load("//rules:private/needs_ktstr_dependencies.bzl", "py_test")
load("//rules:private/platform.bzl", "compatible_with", "vm_test_tags")
load("//rules:private/test_config_rule.bzl", "CONFIG_SUFFIX", "ktstr_test_config")
load("//rules:private/topology.bzl", "resolve_topology", "topology_cpus")

def scheduled_vm(kernel, initramfs, scheduler, sched_args, topology, memory_mib, engine, cmdline, **more):
    """Config attributes of a VM that boots `kernel` with a scheduler attached.

    What ktstr_test and ktstr_shell share.

    Args:
      kernel: a ktstr_kernel target.
      initramfs: ktstr_initramfs targets or cpio files.
      scheduler: a scheduler target; None = EEVDF.
      sched_args: scheduler arguments after its defaults.
      topology: a shape or preset name ("" = the tests' own).
      memory_mib: guest memory, or None (the runner's default for each boot's topology).
      engine: the engine ("" = the flag's, ...).
      cmdline: extra guest kernel command line.
      **more: the caller's other config attributes.

    Returns:
      The attributes for ktstr_test_config.
    """
    topology = resolve_topology(topology)
    return dict(
        kernel = kernel,
        initramfs = initramfs,
        scheduler = scheduler,
        sched_args = sched_args,
        topology = topology,
        memory_mib = memory_mib or 0,
        engine = engine,
        cmdline = cmdline,
        **more
    )

def cpu_tag(topology):
    """The "cpu:N" tag (N = vCPUs) that keeps Bazel from oversubscribing the host.

    "" (the tests' decorator topologies, 1n1l2c1t unless a test says otherwise) counts 2.
    """
    return "cpu:%d" % (topology_cpus(topology) if topology else 2)

def ktstr_target(name, kind, main, config_attrs, target_compatible_with = None, **kwargs):
    """The JSON config of one VM run and the Python entry point reading it.

    Args:
      name: the target's name.
      kind: py_test, or py_binary for a `bazel run` target.
      main: the entry point's label.
      config_attrs: attributes of the config rule.
      target_compatible_with: the user's constraints, added to x86_64 Linux (platform.bzl).
      **kwargs: passed to `kind`.
    """
    config = name + CONFIG_SUFFIX
    target_compatible_with = compatible_with(target_compatible_with)
    ktstr_test_config(
        name = config,
        testonly = True,
        # Built as the test's dependency only: a `//pkg/...` pattern would otherwise build
        # it as a top-level target, with its runfiles (kernels, initramfs: the L1 host of a
        # manual vmm-nested test included).
        tags = ["manual"],
        visibility = ["//visibility:private"],
        target_compatible_with = target_compatible_with,
        **config_attrs
    )
    main = Label(main)
    kind(
        name = name,
        srcs = [main],
        main = main,
        # matplotlib: the host monitor's timeline picture (not in //ktstr: the guest needs none)
        deps = [Label("//ktstr"), Label("@ktstr_pip//:matplotlib")],
        data = [":" + config],
        args = ["--config", "$(rootpath :%s)" % config],
        python_version = "PY3",
        srcs_version = "PY3",
        target_compatible_with = target_compatible_with,
        **kwargs
    )

def ktstr_vm_test(name, config_attrs, tags, remote_exec = False, exec_properties = {}, **kwargs):
    """A py_test of ktstr's Bazel entry point over one config, tagged "cpu:N" and "ktstr".

    Its remote-execution tags are platform.bzl's.

    Args:
      name: the test's name.
      config_attrs: attributes of the config rule (its resolved `topology` sets the tag, its
        `engine` the requires-kvm tag).
      tags: the user's tags.
      remote_exec: True drops the default "no-remote-exec" tag.
      exec_properties: the test action's remote-execution properties (e.g. a KVM pool's).
      **kwargs: passed to the py_test.
    """
    ktstr_target(
        name,
        py_test,
        "//rules:private/ktstr_test_main.py",
        config_attrs,
        tags = vm_test_tags(tags, config_attrs.get("engine", ""), remote_exec) +
               [cpu_tag(config_attrs.get("topology", "")), "ktstr"],
        exec_properties = exec_properties,
        **kwargs
    )
