"""@ktstr_buildifier: buildifier from the npm registry's @bazel/buildifier package (which
ships the static binaries), pinned by the package tarball's sha256. Only ktstr's own
workspace uses it (//tools/lint:buildifier_test); consumers never fetch it."""

_VERSION = "8.2.1"
_SHA256 = "b96ea9b13003036c801f52bee6f9b0314738f8432e5cb9d814c89f59292604ee"

def _impl(rctx):
    npm = rctx.which("npm")
    if npm == None:
        # The lint test skips, naming why, instead of the workspace failing to load.
        rctx.file(
            "buildifier",
            "#!/bin/sh\necho 'npm is not installed (Debian: apt-get install npm)' >&2\nexit 77\n",
            executable = True,
        )
        rctx.file("BUILD.bazel", 'exports_files(["buildifier"], visibility = ["//visibility:public"])\n')
        rctx.file("WORKSPACE", "")
        return
    res = rctx.execute([npm, "pack", "@bazel/buildifier@" + _VERSION, "--silent"], timeout = 300)
    tarball = "bazel-buildifier-%s.tgz" % _VERSION
    if res.return_code != 0 or not rctx.path(tarball).exists:
        fail("ktstr_buildifier: npm pack @bazel/buildifier@%s failed: %s" % (_VERSION, res.stderr))
    got = rctx.execute(["sha256sum", tarball]).stdout.split(" ")[0]
    if got != _SHA256:
        fail("ktstr_buildifier: %s has sha256 %s, expected %s" % (tarball, got, _SHA256))
    rctx.extract(tarball)
    rctx.symlink("package/buildifier-linux_amd64", "buildifier")
    rctx.file("BUILD.bazel", 'exports_files(["buildifier"], visibility = ["//visibility:public"])\n')
    rctx.file("WORKSPACE", "")

ktstr_buildifier = repository_rule(
    implementation = _impl,
    doc = "buildifier %s from npm's @bazel/buildifier (sha256-pinned)." % _VERSION,
)
