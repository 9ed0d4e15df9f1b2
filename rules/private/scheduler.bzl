"""ktstr_scheduler: a scheduler from a binary built elsewhere (an example's output, a Rust scx
scheduler, ...) or nothing (EEVDF), as KtstrSchedulerInfo."""

load("//rules:private/attrs.bzl", "SCHEDULER_ATTRS", "merge_attrs", "scheduler_info")

def _scheduler_impl(ctx):
    binary = ctx.file.binary
    return [
        DefaultInfo(files = depset([binary] if binary else [])),
        scheduler_info(ctx, binary),
    ]

ktstr_scheduler = rule(
    implementation = _scheduler_impl,
    doc = "A scheduler from a prebuilt binary, or EEVDF (no binary).",
    attrs = merge_attrs(SCHEDULER_ATTRS, {
        "binary": attr.label(allow_single_file = True, doc = "the loader; omit for EEVDF"),
        "ops_name": attr.string(doc = "the name /sys/kernel/sched_ext/root/ops shows once the loader attached it"),
    }),
)
