"""ktstr_scheduler: a scheduler from a binary built elsewhere (an example's output, a Rust scx
scheduler, ...) or nothing (EEVDF), as KtstrSchedulerInfo."""

load("//rules:providers.bzl", "make_scheduler_info")

def _scheduler_impl(ctx):
    binary = ctx.file.binary
    return [
        DefaultInfo(files = depset([binary] if binary else [])),
        make_scheduler_info(
            name = ctx.attr.display_name or ctx.label.name,
            binary = binary,
            runtime_files = depset(ctx.files.data),
            args = ctx.attr.default_args,
            ops_name = ctx.attr.ops_name,
        ),
    ]

ktstr_scheduler = rule(
    implementation = _scheduler_impl,
    doc = "A scheduler from a prebuilt binary, or EEVDF (no binary).",
    attrs = {
        "binary": attr.label(allow_single_file = True, doc = "the loader; omit for EEVDF"),
        "data": attr.label_list(allow_files = True, doc = "files the loader needs in the guest"),
        "default_args": attr.string_list(doc = "default loader arguments"),
        "ops_name": attr.string(doc = "the name /sys/kernel/sched_ext/root/ops shows once the loader attached it"),
        "display_name": attr.string(doc = "the scheduler's name in reports (default: the target's name)"),
    },
)
