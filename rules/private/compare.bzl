"""ktstr_compare_test: A/B comparison of two schedulers (or two kernels) as one Bazel test.

The macro declares the two sides as ordinary ktstr_test targets, `<name>_baseline` and
`<name>_candidate` (tagged manual: they are runnable on their own, e.g. with
--runs_per_test=N and then `ktstr compare bazel-testlogs/.../<name>_baseline
bazel-testlogs/.../<name>_candidate`), and the test `<name>`, which boots each side `runs`
times (interleaved) and judges them with ktstr.compare (rule: ktstr/compare/judge.py).
"""

load("//rules:private/ktstr_test.bzl", "ktstr_test")
load("//rules:private/needs_ktstr_dependencies.bzl", "py_test")
load("//rules:private/platform.bzl", "compatible_with", "vm_test_tags")
load("//rules:private/test_config_rule.bzl", "CONFIG_SUFFIX")

def ktstr_compare_test(
        name,
        srcs,
        kernel,
        initramfs,
        baseline = None,
        candidate = None,
        baseline_kernel = None,
        candidate_kernel = None,
        test = "",
        runs = 5,
        threshold = 0.10,
        alpha = 0.05,
        expect_regression = False,
        tags = [],
        size = "large",
        remote_exec = False,
        exec_properties = {},
        **kwargs):
    """Compare scheduler `candidate` against `baseline` (None = EEVDF) on the same tests.

    Args:
      name: the comparison test; the sides are `<name>_baseline` and `<name>_candidate`.
      srcs: the test files both sides run (as for ktstr_test).
      test: the @ktstr_test functions to run ("" = all; as for ktstr_test).
      initramfs: as for ktstr_test.
      kernel: the kernel of both sides, unless baseline_kernel / candidate_kernel say otherwise
        (compare one scheduler on two kernels).
      baseline_kernel: the baseline side's kernel (default `kernel`).
      candidate_kernel: the candidate side's kernel (default `kernel`).
      baseline: a ktstr_bpf_scheduler / ktstr_scheduler target; None = EEVDF.
      candidate: the scheduler under comparison; None = EEVDF.
      runs: VM runs per side. The rule corrects for the number of metrics (Bonferroni), so a
        lone metric needs 3 runs, three metrics 4, five metrics 5 (at alpha 0.05).
      threshold: relative change of a median that counts as a regression.
      alpha: family-wise significance level.
      expect_regression: the test passes only if the candidate regresses (for fixtures).
      tags: tags of the comparison test.
      size: Bazel size of the comparison test ("large": 2 x runs VM boots).
      remote_exec: as for ktstr_test (for the sides and the comparison).
      exec_properties: as for ktstr_test (for the sides and the comparison).
      **kwargs: passed to both sides' ktstr_test (topology, duration, timeout, sched_args...).
    """
    configs = []
    for side, sched, side_kernel in [
        ("baseline", baseline, baseline_kernel or kernel),
        ("candidate", candidate, candidate_kernel or kernel),
    ]:
        ktstr_test(
            name = "%s_%s" % (name, side),
            srcs = srcs,
            test = test,
            kernel = side_kernel,
            initramfs = initramfs,
            scheduler = sched,
            tags = ["manual"],
            remote_exec = remote_exec,
            exec_properties = exec_properties,
            **kwargs
        )

        # ktstr_test's JSON config target (ktstr_target.bzl: <target>_ktstr_config).
        configs.append(":%s_%s%s" % (name, side, CONFIG_SUFFIX))
    main = Label("//rules:private/ktstr_compare_main.py")
    args = [
        "--baseline=$(rootpath %s)" % configs[0],
        "--candidate=$(rootpath %s)" % configs[1],
        "--runs=%d" % runs,
        "--threshold=%s" % threshold,
        "--alpha=%s" % alpha,
    ]
    if expect_regression:
        args.append("--expect-regression")
    py_test(
        name = name,
        srcs = [main],
        main = main,
        deps = [Label("//ktstr"), Label("@ktstr_pip//:matplotlib")],
        data = configs,
        args = args,
        python_version = "PY3",
        srcs_version = "PY3",
        size = size,
        # Both sides' VMs run one after the other: the largest vCPU count is what it needs.
        tags = vm_test_tags(tags, kwargs.get("engine", ""), remote_exec) + ["cpu:2", "ktstr"],
        exec_properties = exec_properties,
        target_compatible_with = compatible_with(kwargs.get("target_compatible_with")),
    )
