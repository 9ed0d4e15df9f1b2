"""ktstr's Python: the interpreter (@ktstr_python) and the pinned packages (@ktstr_pip).

Neither lives under anybody's home: the interpreter is the system's CPython (default
/usr/bin/python3, the same path on every Debian machine) and the packages are installed by
pip into the @ktstr_pip repository and reach tools and tests as ordinary Bazel files. So
the stubs of ktstr's py_binary tools (inputs of the kernel, scheduler and initramfs
actions) are the same for every user and clone, and the remote cache can share them.

What does depend on the host is said in @ktstr_python//:python_info.txt: the interpreter's
real path and version and the distribution packages of its stdlib and libc, which the
initramfs actions pack into guests. It is an input of exactly those actions.
"""

_TOOLCHAIN_BUILD = """\
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")

package(default_visibility = ["//visibility:public"])

py_runtime(
    name = "py3_runtime",
    interpreter_path = "{python}",
    python_version = "PY3",
    # Bazel 4's default stub shebang names `python`, which Debian does not ship.
    stub_shebang = "#!{python}",
)

py_runtime_pair(
    name = "runtime_pair",
    py3_runtime = ":py3_runtime",
)

toolchain(
    name = "toolchain",
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)

# The interpreter's real executable, version and packages, for rules that pack it into a
# guest (an input of their actions: an upgrade changes their keys).
exports_files(["python_info.txt"])
"""

_PROBE = """\
import os, sys, sysconfig
print("executable=" + os.path.realpath(sys.executable))
print("version=%d.%d.%d" % sys.version_info[:3])
print("stdlib=" + sysconfig.get_path("stdlib"))
"""

DEFAULT_PYTHON = "/usr/bin/python3"

def _interpreter(rctx):
    python = rctx.os.environ.get("KTSTR_PYTHON", "") or rctx.attr.python
    res = rctx.execute([python, "-c", _PROBE])
    if res.return_code != 0:
        fail(("ktstr: the Python interpreter %s does not run (%s). Install python3 (Debian: " +
              "apt-get install python3 python3-pip, or ./bazelw which installs every package), " +
              "or point KTSTR_PYTHON at a CPython 3.11+.") % (python, res.stderr.strip() or "not found"))
    info = {}
    for line in res.stdout.splitlines():
        key, _, value = line.partition("=")
        info[key] = value
    major, minor = info["version"].split(".")[:2]
    if (int(major), int(minor)) < (3, 11):
        fail("ktstr: %s is Python %s; ktstr needs 3.11 or newer (set KTSTR_PYTHON)" % (python, info["version"]))
    return python, info

def _owning_packages(rctx, paths):
    """Debian packages (name=version) that own the given paths; [] off Debian."""
    if rctx.which("dpkg-query") == None:
        return ["dpkg=absent"]
    names = {}
    for path in paths:
        res = rctx.execute(["dpkg-query", "-S", path])
        if res.return_code == 0:
            for line in res.stdout.splitlines():
                for pkg in line.split(":", 1)[0].split(","):
                    names[pkg.strip()] = True
    out = []
    for name in sorted(names):
        res = rctx.execute(["dpkg-query", "-W", "-f=${Package}=${Version}", name])
        if res.return_code == 0:
            out.append(res.stdout.strip())
    return out

def _ktstr_python_configure_impl(rctx):
    python, info = _interpreter(rctx)
    libc = rctx.execute(["sh", "-c", "ldd --version 2>&1 | head -n1"]).stdout.strip()
    pkgs = _owning_packages(rctx, [info["executable"], info["stdlib"] + "/os.py", info["stdlib"] + "/json/__init__.py", "/lib/x86_64-linux-gnu/libc.so.6"])
    rctx.file("python_info.txt", "\n".join([
        "interpreter=" + python,
        "executable=" + info["executable"],
        "version=" + info["version"],
        "stdlib=" + info["stdlib"],
        "libc=" + libc,
    ] + ["package=" + p for p in pkgs]) + "\n")
    rctx.file("BUILD.bazel", _TOOLCHAIN_BUILD.format(python = python))
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

ktstr_python_configure = repository_rule(
    implementation = _ktstr_python_configure_impl,
    doc = "The host CPython as a Bazel Python toolchain (default /usr/bin/python3; KTSTR_PYTHON overrides).",
    environ = ["KTSTR_PYTHON", "KTSTR_HOST_TOOLS_STAMP"],
    local = True,
    attrs = {
        "python": attr.string(default = DEFAULT_PYTHON, doc = "Absolute path of the interpreter (KTSTR_PYTHON wins)."),
    },
)

def _ktstr_pip_impl(rctx):
    python, _ = _interpreter(rctx)
    requirements = rctx.path(rctx.attr.requirements)
    rctx.symlink(requirements, "requirements.txt")
    pip = rctx.execute([python, "-m", "pip", "--version"])
    if pip.return_code != 0:
        fail(("ktstr: %s has no pip module, needed to install ktstr's requirements.txt into " +
              "@%s. Install it: apt-get install python3-pip (./bazelw installs every package).") %
             (python, rctx.name))
    res = rctx.execute([
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--root-user-action=ignore",
        # Exactly requirements.txt: nothing resolved behind its back, no bytecode (which
        # embeds this directory's path), no scripts on sys.path.
        "--no-deps",
        "--no-compile",
        "--only-binary=:all:",
        "--target",
        "site",
        "--requirement",
        "requirements.txt",
    ], timeout = 900, quiet = True)
    if res.return_code != 0:
        fail("ktstr: pip could not install %s into @%s:\n%s" % (requirements, rctx.name, res.stderr[-3000:]))
    res = rctx.execute([python, rctx.path(rctx.attr._generator), "site", "BUILD.bazel"])
    if res.return_code != 0:
        fail(res.stderr)
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

ktstr_pip = repository_rule(
    implementation = _ktstr_pip_impl,
    doc = """ktstr's pinned Python packages (requirements.txt), one py_library per distribution.

Installed with pip from the configured package index (PyPI, or your mirror through pip's
own configuration); re-run when requirements.txt changes.""",
    environ = ["KTSTR_PYTHON"],
    attrs = {
        "python": attr.string(default = DEFAULT_PYTHON, doc = "Interpreter whose pip installs the packages (KTSTR_PYTHON wins)."),
        "requirements": attr.label(default = Label("//:requirements.txt"), allow_single_file = True),
        "_generator": attr.label(default = Label("//rules:private/pip_build.py"), allow_single_file = True),
    },
)
