"""ktstr_test: a Bazel test that boots a VM per topology and runs @ktstr_test functions.

The macro writes a small JSON config (test_config_rule.bzl: paths of the kernel, initramfs
layers, scheduler and test sources, relative to the runfiles root) and wraps it in a py_test
whose main is ktstr's Bazel entry point (ktstr_target.bzl). Bazel caches the result like any
test: unchanged kernel, scheduler, initramfs, sources and attributes mean a cached PASS.
"""

load("//rules:private/ktstr_target.bzl", "ktstr_vm_test", "scheduled_vm")

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
        vm_timeout_s = None,
        engine = "",
        expect_fail = "",
        may_fail = [],
        cmdline = "",
        monitor = {},
        tags = [],
        size = "medium",
        remote_exec = False,
        exec_properties = {},
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
      memory_mib: guest memory; None: the runner's default for each boot's topology, max(1024,
        64 per vCPU) (percpu areas grow with CPUs; ktstr/wire/defaults.py).
      duration: workload seconds passed to the tests (None = each test's own).
      checks: check overrides for every test of the target, e.g. {"max_gap_ms": "5000",
        "isolation": "false", "max_spread_pct": "off: why"} (names as ktstr.checks.Assert's
        fields; unknown ones are refused). "off: why" switches a bound off, reported as
        "not checked: why"; a bound that can never fail (a spread of 100) is refused.
        Layered over the scheduler's and under each test's decorator.
      watchdog_timeout_s: sched_ext's watchdog (seconds, up to 30) for the tests that set
        none: a stall is caught in that time instead of the scheduler's default (30 s). The
        scheduler must take it (ktstr's loader does: $KTSTR_WATCHDOG_TIMEOUT_MS).
      vm_timeout_s: seconds per VM before it is killed and reported hung; None: the test job's
        default, 120 s (ktstr/wire/defaults.py). Bazel's own `timeout` is the test's, set by
        `size`.
      engine: "" (flag --//rules:engine, then $KTSTR_ENGINE, then auto) or one of
        rules/private/engines.bzl's ENGINES: auto, qemu, qemu-kvm, qemu-tcg, vmm, vmm-nested.
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
      remote_exec: False (default) tags the test "no-remote-exec": remote caching only.
        True lets a remote executor run it; its image must boot VMs (docs/remote-execution.md).
        An engine that needs KVM (vmm, qemu-kvm) also tags it "requires-kvm".
      exec_properties: the test action's remote-execution properties, e.g.
        {"Pool": "kvm"} to send it to an executor pool with /dev/kvm.
      **kwargs: passed to the py_test (visibility, flaky, shard_count: test functions are
        dealt round-robin over the shards, each shard booting its own VMs, ...).
    """
    ktstr_vm_test(
        name,
        scheduled_vm(
            kernel,
            initramfs,
            scheduler,
            sched_args,
            topology,
            memory_mib,
            engine,
            cmdline,
            srcs = srcs,
            test = test,
            duration = "" if duration == None else str(duration),
            checks = checks,
            watchdog_timeout_s = "" if watchdog_timeout_s == None else str(watchdog_timeout_s),
            vm_timeout = vm_timeout_s or 0,
            expectations = _expectations(expect_fail, may_fail),
            monitor = monitor,
        ),
        size = size,
        tags = tags,
        remote_exec = remote_exec,
        exec_properties = exec_properties,
        **kwargs
    )
