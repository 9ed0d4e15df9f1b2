"""ktstr_engine_flag: the --//rules:engine build setting (rules/BUILD.bazel declares it)."""

load("//rules:private/engines.bzl", "ENGINES")
load("//rules:providers.bzl", "make_engine_flag_info")

def _engine_flag_impl(ctx):
    value = ctx.build_setting_value
    if value != "" and value not in ENGINES:
        fail("--%s=%s: choose one of %s" % (ctx.label, value, ", ".join(ENGINES)))
    return [make_engine_flag_info(value = value)]

ktstr_engine_flag = rule(
    implementation = _engine_flag_impl,
    build_setting = config.string(flag = True),
    doc = "Command-line engine choice for every ktstr_test: --//rules:engine=qemu-tcg",
)
