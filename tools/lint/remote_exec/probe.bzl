"""ktstr_attrs_probe: what Bazel analyzed for some targets (tags, exec_properties,
target_compatible_with), written as JSON for test_remote_exec.py.

An aspect reads the attributes after the macros ran, so the test sees what a remote executor
and `--test_tag_filters` see, not what the macros' source says.
"""

TargetAttrsInfo = provider(
    doc = "The remote-execution attributes of one analyzed target.",
    fields = {"attrs": "a dict: label, kind, tags, exec_properties, target_compatible_with"},
)

def _attrs_aspect_impl(target, ctx):
    attr = ctx.rule.attr
    compatible = getattr(attr, "target_compatible_with", None) or []
    return [TargetAttrsInfo(attrs = {
        "label": str(target.label),
        "kind": ctx.rule.kind,
        "tags": getattr(attr, "tags", None) or [],
        "exec_properties": getattr(attr, "exec_properties", None) or {},
        "target_compatible_with": [str(t.label) for t in compatible],
    })]

_attrs_aspect = aspect(implementation = _attrs_aspect_impl)

def _probe_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(out, json.encode([t[TargetAttrsInfo].attrs for t in ctx.attr.targets]))
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

ktstr_attrs_probe = rule(
    implementation = _probe_impl,
    doc = "Writes <name>.json: the analyzed tags, exec_properties and constraints of `targets`.",
    attrs = {
        "targets": attr.label_list(aspects = [_attrs_aspect], doc = "the targets to describe (analyzed, not built)"),
    },
)
