"""runnable_test: which targets `bazel run` accepts, checked at analysis (nothing is built).

A ktstr_bpf_scheduler must not be one (it would attach to the host's kernel); the ways to run a
scheduler in a VM (a ktstr_shell target, @ktstr//:ktstr) must be. The test's script reports
every target on the wrong side, so a scheduler rule made executable again fails it.
"""

def _runnable(target):
    return target[DefaultInfo].files_to_run.executable != None

def _sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

def _runnable_test_impl(ctx):
    wrong = ["%s is runnable: bazel run would start it on the host" % t.label for t in ctx.attr.not_runnable if _runnable(t)]
    wrong += ["%s is not runnable" % t.label for t in ctx.attr.runnable if not _runnable(t)]
    lines = ["#!/bin/sh"]
    if wrong:
        lines += ["echo %s >&2" % _sh_quote(w) for w in wrong] + ["exit 1"]
    else:
        lines += ["echo %s" % _sh_quote("%d not runnable, %d runnable, as expected" % (len(ctx.attr.not_runnable), len(ctx.attr.runnable))), "exit 0"]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    return [DefaultInfo(executable = script)]

runnable_test = rule(
    implementation = _runnable_test_impl,
    test = True,
    attrs = {
        "not_runnable": attr.label_list(doc = "targets `bazel run` must refuse"),
        "runnable": attr.label_list(doc = "targets `bazel run` must accept"),
    },
)
