"""ktstr_scheduler: a scheduler from a binary built elsewhere (an example's output, a Rust scx
scheduler, ...) or nothing (EEVDF), as KtstrSchedulerInfo."""

load("//rules:private/attrs.bzl", "SCHEDULER_ATTRS", "merge_attrs", "scheduler_info")
load("//rules:private/platform.bzl", "on_linux_x86_64")

def _scheduler_impl(ctx):
    binary = ctx.file.binary
    return [
        DefaultInfo(files = depset([binary] if binary else [])),
        scheduler_info(ctx, binary),
    ]

ktstr_scheduler_rule = rule(
    implementation = _scheduler_impl,
    doc = "A scheduler from a prebuilt binary, or EEVDF (no binary).",
    attrs = merge_attrs(SCHEDULER_ATTRS, {
        "binary": attr.label(allow_single_file = True, doc = "the loader; omit for EEVDF"),
        "ops_name": attr.string(doc = "the name /sys/kernel/sched_ext/root/ops shows once the loader attached it"),
    }),
)

def ktstr_scheduler(name, target_compatible_with = None, **kwargs):
    """A scheduler from a prebuilt binary, or EEVDF (the rule `ktstr_scheduler_rule` above).

    Limited to x86_64 Linux and `target_compatible_with` (platform.bzl); `kwargs` are the
    rule's attributes (docs/api.md).
    """
    on_linux_x86_64(ktstr_scheduler_rule, name, target_compatible_with, **kwargs)
