"""ktstr_test: a Bazel test that boots a VM per topology and runs @ktstr_test functions.

The macro writes a small JSON config (paths of the kernel, initramfs layers, scheduler and
test sources, relative to the runfiles root) and wraps it in a py_test whose main is
ktstr's Bazel entry point. Bazel caches the result like any test: unchanged kernel,
scheduler, initramfs, sources and attributes mean a cached PASS.
"""

load("//rules:private/needs_ktstr_dependencies.bzl", "py_binary", "py_test")
load("//rules:private/presets.bzl", "TOPOLOGY_PRESETS")
load("//rules:providers.bzl", "KtstrInitramfsInfo", "KtstrKernelInfo", "KtstrSchedulerInfo")

_ENGINES = ["", "auto", "qemu", "qemu-kvm", "qemu-tcg", "vmm", "vmm-nested"]

def _engine_flag_impl(ctx):
    value = ctx.build_setting_value
    if value not in _ENGINES:
        fail("--%s=%s: choose one of %s" % (ctx.label, value, ", ".join(_ENGINES)))
    return [EngineFlagInfo(value = value)]

EngineFlagInfo = provider(doc = "The engine chosen with --//rules:engine", fields = ["value"])

ktstr_engine_flag = rule(
    implementation = _engine_flag_impl,
    build_setting = config.string(flag = True),
    doc = "Command-line engine choice for every ktstr_test: --//rules:engine=qemu-tcg",
)

def _scoped(texts):
    """{text: [test, ...]} as is; a text or a list of texts: for every test of the target."""
    if type(texts) == "dict":
        return texts
    if type(texts) == "string":
        return {texts: []} if texts else {}
    return {t: [] for t in texts if t}

def _expectations(expect_fail, may_fail):
    """Returns expect_fail and may_fail as Expectation objects (JSON strings).

    The one known-failure model (ktstr.host.expectations): each covers findings, per test
    when scoped.
    """
    out = []
    for text, tests in _scoped(expect_fail).items():
        out.append(json.encode({"text": text, "reason": "expected failure %r" % text, "tests": tests, "required": True}))
    for text, tests in _scoped(may_fail).items():
        out.append(json.encode({"text": text, "reason": "known intermittent %r" % text, "tests": tests, "required": False}))
    return out

def _runfile_path(f):
    # Tests run with the workspace's runfiles directory as cwd; files of other repositories
    # sit next to it ("../repo/path"), which short_path already says.
    return f.short_path

def _config_impl(ctx):
    kernel = ctx.attr.kernel[KtstrKernelInfo]
    files = [kernel.bzimage]
    layout = getattr(kernel, "layout", None)
    if layout != None:
        files.append(layout)
    initrds = []
    for target in ctx.attr.initramfs:
        if KtstrInitramfsInfo in target:
            initrds += target[KtstrInitramfsInfo].archives
        else:
            initrds += target.files.to_list()
    files += initrds
    scheduler = None
    transitive = []
    if ctx.attr.scheduler:
        info = ctx.attr.scheduler[KtstrSchedulerInfo]
        if info.binary != None:
            runtime = info.runtime_files.to_list() if info.runtime_files else []
            files.append(info.binary)
            files += runtime
            scheduler = {
                "name": info.name,
                "binary": _runfile_path(info.binary),
                "args": list(info.args) + ctx.attr.sched_args,
                "ops_name": info.ops_name,
                "init_cpu": info.init_cpu if info.init_cpu >= 0 else None,
                "runtime_files": [_runfile_path(f) for f in runtime],
            }
    elif ctx.attr.sched_args:
        fail("sched_args given but no scheduler: EEVDF takes no arguments")
    srcs = ctx.files.srcs
    files += srcs
    selftests = ctx.file.selftests_runner
    if selftests != None:
        files.append(selftests)
    engine = ctx.attr.engine or ctx.attr._engine_flag[EngineFlagInfo].value
    vmm_library = ""
    if engine in ("", "auto", "vmm"):
        # The VMM is what auto picks where KVM can boot Linux; with an explicit QEMU engine
        # the library stays out, so a VMM change does not invalidate those cached results.
        files.append(ctx.file._vmm_library)
        vmm_library = _runfile_path(ctx.file._vmm_library)
    l1_kernel, l1_initramfs = "", ""
    if engine == "vmm-nested":
        # The L1 host of the nested test bed (a second kernel build), only for this engine.
        l1_bzimage = ctx.attr._l1_kernel[KtstrKernelInfo].bzimage
        l1_archives = ctx.attr._l1_initramfs[KtstrInitramfsInfo].archives
        if len(l1_archives) != 1:
            fail("//vmm:l1_initramfs must be one archive")
        files += [l1_bzimage] + l1_archives
        l1_kernel = _runfile_path(l1_bzimage)
        l1_initramfs = _runfile_path(l1_archives[0])

    # QEMU's version is part of the test's key: a QEMU upgrade re-runs cached VM tests.
    files.append(ctx.file._qemu_version)
    config = {
        "suite": str(ctx.label).replace("_ktstr_config", ""),
        "kernel": _runfile_path(kernel.bzimage),
        "initramfs": [_runfile_path(f) for f in initrds],
        "srcs": [_runfile_path(f) for f in srcs],
        "test": ctx.attr.test,
        "scheduler": scheduler,
        "topology": ctx.attr.topology,
        "memory_mib": ctx.attr.memory_mib,
        "duration": ctx.attr.duration,
        "checks": ctx.attr.checks,
        "watchdog_timeout_s": ctx.attr.watchdog_timeout_s,
        "vm_timeout_s": ctx.attr.vm_timeout,
        "engine": engine,
        "expectations": ctx.attr.expectations,
        "cmdline": ctx.attr.cmdline,
        "selftests_runner": _runfile_path(selftests) if selftests != None else "",
        "selftests_args": ctx.attr.selftests_args,
        "vmm_library": vmm_library,
        "l1_kernel": l1_kernel,
        "l1_initramfs": l1_initramfs,
        "kernel_layout": _runfile_path(layout) if layout != None else "",
        "monitor": ctx.attr.monitor,
    }
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(out, json.encode(config))
    return [DefaultInfo(
        files = depset([out]),
        runfiles = ctx.runfiles(files = files + [out], transitive_files = depset(transitive = transitive)),
    )]

_ktstr_test_config = rule(
    implementation = _config_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".py"]),
        "test": attr.string(),
        "kernel": attr.label(mandatory = True, providers = [KtstrKernelInfo]),
        "initramfs": attr.label_list(allow_files = True),
        "selftests_runner": attr.label(allow_single_file = True, cfg = "target"),
        "selftests_args": attr.string_list(),
        "scheduler": attr.label(providers = [KtstrSchedulerInfo]),
        "sched_args": attr.string_list(),
        "topology": attr.string(),
        "memory_mib": attr.int(default = 1024),
        "duration": attr.string(),
        "checks": attr.string_dict(doc = "check overrides for every test (name -> value), over the tests' own"),
        "watchdog_timeout_s": attr.string(doc = "sched_ext watchdog seconds for tests that set none"),
        "vm_timeout": attr.int(default = 60),
        "engine": attr.string(values = _ENGINES),
        "expectations": attr.string_list(doc = "known failures, one JSON object each (see _expectations)"),
        "cmdline": attr.string(),
        "monitor": attr.string_dict(),
        "_engine_flag": attr.label(default = Label("//rules:engine")),
        "_vmm_library": attr.label(default = Label("//vmm:libktstr_vmm.so"), allow_single_file = True),
        "_l1_kernel": attr.label(default = Label("//kernels:l1_host"), providers = [KtstrKernelInfo]),
        "_l1_initramfs": attr.label(default = Label("//vmm:l1_initramfs"), providers = [KtstrInitramfsInfo]),
        "_qemu_version": attr.label(default = Label("@ktstr_host_tools//:qemu.txt"), allow_single_file = True),
    },
)

def _resolve_topology(topology):
    """A preset name ("tiny-2llc") -> its shape; a shape stays as it is."""
    return TOPOLOGY_PRESETS.get(topology, topology)

def _topology_cpus(topology):
    # "{n}n{l}l{c}c{t}t": CPUs = l * c * t (llcs is the total over all nodes).
    if not topology:
        return 2
    rest = topology
    counts = []
    for unit in ["n", "l", "c", "t"]:
        parts = rest.split(unit, 1)
        if len(parts) != 2 or not parts[0].isdigit():
            fail("topology %r: expected {n}n{l}l{c}c{t}t, e.g. 1n2l4c1t, or a preset name: %s" %
                 (topology, ", ".join(sorted(TOPOLOGY_PRESETS))))
        counts.append(int(parts[0]))
        rest = parts[1]
    if rest:
        fail("topology %r: trailing text %r" % (topology, rest))
    return counts[1] * counts[2] * counts[3]

def _guest_memory(memory_mib, topology):
    """Guest memory in MiB for a topology.

    As given, else max(1024, 64 per vCPU) (percpu areas grow with CPUs); 0 = each boot's own
    topology (decorator topologies), sized by ktstr.host.request.

    Args:
      memory_mib: the user's value, or None.
      topology: the target's shape ("" = the decorators').

    Returns:
      MiB, or 0 for "per boot".
    """
    if memory_mib != None:
        return memory_mib
    return max(1024, 64 * _topology_cpus(topology)) if topology else 0

def _ktstr_target(name, kind, main, config_attrs, **kwargs):
    """The JSON config of one VM run and the Python entry point reading it.

    Args:
      name: the target's name.
      kind: py_test, or py_binary for a `bazel run` target.
      main: the entry point's label.
      config_attrs: attributes of the config rule.
      **kwargs: passed to `kind`.
    """
    config = name + "_ktstr_config"
    _ktstr_test_config(
        name = config,
        testonly = True,
        # Built as the test's dependency only: a `//pkg/...` pattern would otherwise build
        # it as a top-level target, with its runfiles (kernels, initramfs: the L1 host of a
        # manual vmm-nested test included).
        tags = ["manual"],
        visibility = ["//visibility:private"],
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
        **kwargs
    )

def ktstr_test(
        name,
        srcs,
        kernel,
        initramfs,
        test = "",
        scheduler = None,
        sched_args = [],
        topology = "",
        memory_mib = None,
        duration = None,
        checks = {},
        watchdog_timeout_s = None,
        vm_timeout_s = 60,
        engine = "",
        expect_fail = "",
        may_fail = [],
        cmdline = "",
        monitor = {},
        tags = [],
        size = "medium",
        **kwargs):
    """A Bazel test running `test` (or every @ktstr_test function in srcs) in a VM.

    Args:
      name: target name.
      srcs: test .py files with @ktstr_test functions (they run inside the guest).
      kernel: a ktstr_kernel target (KtstrKernelInfo).
      initramfs: base initramfs: ktstr_initramfs targets (KtstrInitramfsInfo) or cpio files.
      test: one function name; "" runs all of them (one VM per distinct topology).
      scheduler: a ktstr_bpf_scheduler target; None means the kernel's EEVDF.
      sched_args: extra scheduler arguments after its defaults.
      topology: "{n}n{l}l{c}c{t}t" or a preset name (rules/private/presets.bzl, e.g.
        "tiny-2llc"); "" = each test's decorator topology (else 1n1l2c1t).
      memory_mib: guest memory; default max(1024, 64 per vCPU) (percpu areas grow with CPUs).
      duration: workload seconds passed to the tests (None = each test's own).
      checks: check overrides for every test of the target, e.g. {"max_gap_ms": "5000",
        "isolation": "false", "max_spread_pct": "off: why"} (names as ktstr.checks.Assert's
        fields; unknown ones are refused). "off: why" switches a bound off, reported as
        "not checked: why"; a bound that can never fail (a spread of 100) is refused.
        Layered over the scheduler's and under each test's decorator.
      watchdog_timeout_s: sched_ext's watchdog (seconds, up to 30) for the tests that set
        none: a stall is caught in that time instead of the scheduler's default (30 s). The
        scheduler must take it (ktstr's loader does: $KTSTR_WATCHDOG_TIMEOUT_MS).
      vm_timeout_s: seconds per VM before it is killed and reported hung (Bazel's own `timeout`
        is the test's, set by `size`).
      engine: "" (flag --//rules:engine, then $KTSTR_ENGINE, then auto), auto, qemu-kvm,
        qemu-tcg, vmm.
      expect_fail: negative test: a text, or {text: [test, ...]} to scope it to some tests.
        Each test it applies to passes only if a finding (a failed claim, a guest failure,
        a kernel splat, a sched_ext exit, a host monitor finding, a hang, crash or missing
        result) contains the text and every other finding is covered too (known failures,
        ktstr/host/expectations.py); otherwise it FAILs with the uncovered finding's own text
        or "expected failure did not happen". `KIND|text` also requires the finding's kind
        (e.g. "splat|BUG: "); `*` in a text stands for any characters.
      may_fail: known timing-dependent findings: a list of texts, or {text: [test, ...]}.
        A finding containing one of them is reported as "known: ..." and does not fail
        the test; it need not occur; any finding no text covers still fails it.
      cmdline: extra guest kernel command line.
      monitor: host monitor options for every test of the target, over the defaults and
        under each test's decorator `monitor={...}`: {"fail_on_stall": "false",
        "max_imbalance_ratio": "8", "enabled": "false", ...} (docs/monitor.md).
      tags: extra tags; "cpu:N" (N = vCPUs) is added so Bazel does not oversubscribe.
      size: Bazel test size (timeout category), "medium" by default.
      **kwargs: passed to the py_test (visibility, flaky, shard_count: test functions are
        dealt round-robin over the shards, each shard booting its own VMs, ...).
    """
    topology = _resolve_topology(topology)
    _ktstr_target(
        name,
        py_test,
        "//rules:private/ktstr_test_main.py",
        dict(
            srcs = srcs,
            test = test,
            kernel = kernel,
            initramfs = initramfs,
            scheduler = scheduler,
            sched_args = sched_args,
            topology = topology,
            memory_mib = _guest_memory(memory_mib, topology),
            duration = "" if duration == None else str(duration),
            checks = checks,
            watchdog_timeout_s = "" if watchdog_timeout_s == None else str(watchdog_timeout_s),
            vm_timeout = vm_timeout_s,
            engine = engine,
            expectations = _expectations(expect_fail, may_fail),
            cmdline = cmdline,
            monitor = monitor,
        ),
        size = size,
        tags = tags + ["cpu:%d" % _topology_cpus(topology), "ktstr"],
        **kwargs
    )

def ktstr_selftests_test(
        name,
        runner,
        kernel,
        runner_args = [],
        topology = "1n1l2c1t",
        memory_mib = 512,
        vm_timeout_s = 240,
        engine = "",
        tags = [],
        size = "large",
        **kwargs):
    """The upstream sched_ext selftests runner in a VM; each selftest is one JUnit test case.

    Args:
      name: target name.
      runner: the selftests `runner` binary (tools/testing/selftests/sched_ext).
      kernel: a ktstr_kernel target; the runner must be built against its headers/BTF.
      runner_args: runner arguments, e.g. ["-t", "create_dsq"].
      topology: guest topology.
      memory_mib: guest memory.
      vm_timeout_s: seconds before the VM is killed and reported hung.
      engine: as for ktstr_test.
      tags: extra tags.
      size: Bazel test size ("large": the whole runner takes ~45 s under TCG).
      **kwargs: passed to the py_test.
    """
    topology = _resolve_topology(topology)
    _ktstr_target(
        name,
        py_test,
        "//rules:private/ktstr_test_main.py",
        dict(
            kernel = kernel,
            selftests_runner = runner,
            selftests_args = runner_args,
            topology = topology,
            memory_mib = memory_mib,
            vm_timeout = vm_timeout_s,
            engine = engine,
        ),
        size = size,
        tags = tags + ["cpu:%d" % _topology_cpus(topology), "ktstr"],
        **kwargs
    )

def ktstr_gauntlet(name, topologies, memory_mib = None, tags = [], **kwargs):
    """The same ktstr_test on several topologies.

    One target per topology, named `<name>_<topology>` (preset names with `-` as `_`), and a
    test_suite `name` of them all.

    Args:
      name: the test_suite's name and the targets' prefix.
      topologies: shapes ("1n2l2c2t") or preset names ("tiny-2llc", "smt-2llc", ...).
      memory_mib: guest memory (default as ktstr_test's: max(1024, 64 per vCPU)).
      tags: tags of every target and of the suite.
      **kwargs: everything else ktstr_test takes (srcs, kernel, initramfs, scheduler, ...).
    """
    if not topologies:
        fail("ktstr_gauntlet %s: topologies is empty" % name)
    tests = []
    for topology in topologies:
        shape = _resolve_topology(topology)
        target = "%s_%s" % (name, topology.replace("-", "_"))
        ktstr_test(
            name = target,
            topology = shape,
            memory_mib = memory_mib,
            tags = tags,
            **kwargs
        )
        tests.append(":" + target)
    native.test_suite(name = name, tests = tests, tags = tags)

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
    topology = _resolve_topology(topology)
    _ktstr_target(
        name,
        py_binary,
        "//rules:private/ktstr_shell_main.py",
        dict(
            kernel = kernel,
            initramfs = initramfs,
            scheduler = scheduler,
            sched_args = sched_args,
            topology = topology,
            memory_mib = _guest_memory(memory_mib, topology),
            engine = engine,
            cmdline = cmdline,
        ),
        testonly = True,
        **kwargs
    )
