"""Points Bazel's Python toolchain at the interpreter ./bazelw prepared.

./bazelw builds a venv from requirements.txt on Debian's /usr/bin/python3 and passes its
interpreter as --repo_env=KTSTR_PYTHON. py_test / py_binary then run with the pinned
dependencies (pyelftools, cffi, protobuf, pytest), and the guest runs the same CPython.
"""

_BUILD = """\
load("@bazel_tools//tools/python:toolchain.bzl", "py_runtime_pair")

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

# The interpreter's real executable and version, for rules that pack it into a guest.
exports_files(["python_info.txt"])
"""

_PROBE = "import sys, os; print(os.path.realpath(sys.executable)); print('%d.%d' % sys.version_info[:2]); print(sys.base_prefix)"

def _ktstr_python_configure_impl(rctx):
    python = rctx.os.environ.get("KTSTR_PYTHON", "")
    if not python:
        python = "/usr/bin/python3"
    res = rctx.execute([python, "-c", _PROBE])
    if res.return_code != 0:
        fail(("ktstr: the Python interpreter '%s' does not run (%s). Run Bazel through " +
              "./bazelw, which prepares it, or set KTSTR_PYTHON to a python3.11+ with the " +
              "packages of requirements.txt.") % (python, res.stderr.strip()))
    missing = rctx.execute([python, "-c", "import elftools, cffi, google.protobuf, pytest"])
    if missing.return_code != 0:
        fail(("ktstr: the Python interpreter '%s' lacks packages from requirements.txt " +
              "(%s). Run ./bazelw (it installs them) or pip install -r requirements.txt.") %
             (python, missing.stderr.strip().splitlines()[-1] if missing.stderr.strip() else "import failed"))
    # The Debian package versions fingerprint the stdlib and libraries that initramfs
    # actions pack from the host: an upgrade changes this file and so every such action key.
    pkgs = rctx.execute(["dpkg-query", "-W", "python3.11-minimal", "libpython3.11-stdlib", "libc6"])
    rctx.file("python_info.txt", "interpreter=%s\n" % python + res.stdout +
              (pkgs.stdout if pkgs.return_code == 0 else ""))
    rctx.file("BUILD.bazel", _BUILD.format(python = python))
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

ktstr_python_configure = repository_rule(
    implementation = _ktstr_python_configure_impl,
    environ = ["KTSTR_PYTHON"],
    local = True,
)
