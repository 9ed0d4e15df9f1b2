"""@ktstr_host_tools: the versions of the host tools ktstr's actions run, as action inputs.

Kernel, scheduler and initramfs actions run gcc, binutils, make, pahole, clang-19, bpftool's
build, busybox and the host's libraries from the machine, not from Bazel. Their outputs
depend on those tools, so their versions must be part of the action keys: otherwise a
remote cache shared by two distributions (or by a machine before and after an upgrade)
hands one host's kernel or BPF object to another. Each file below lists the versions of the
tools of one kind of action and is an input of exactly those actions, so upgrading clang
changes the scheduler keys and leaves the kernel's alone.

    kernel.txt     KernelConfig, KernelBuild
    bpf.txt        KtstrSchedExt, KtstrSchedExtSelftests, KtstrBpfScheduler
    initramfs.txt  KtstrInitramfs (busybox, and the libraries packed with binaries)
    qemu.txt       ktstr_test runfiles: a QEMU upgrade re-runs VM tests; with the host's KVM
                   facts (the kvm* modules loaded, /dev/kvm usable), which decide the engine
                   `auto` picks (ktstr/host/engines/kvm.py), so a verdict from QEMU TCG is
                   never served from a cache to a host whose KVM runs Linux, or back

A missing tool fails only what needs it: its kind's file becomes an action that fails naming
the tool and its Debian package, so a machine without QEMU or compilers can still query and
analyse every target (tests/consumer/test_setup_errors.py hides them).

The rule re-runs when PATH or KTSTR_HOST_TOOLS_STAMP changes (./bazelw sets the stamp from
dpkg's status file, so an apt upgrade is seen), and at every Bazel server start (local).
"""

# kind -> [(tool, command)]: the first line of the command's output identifies the tool.
_TOOLS = {
    "kernel": [
        ("gcc", "gcc --version"),
        ("ld", "ld --version"),
        ("make", "make --version"),
        ("flex", "flex --version"),
        ("bison", "bison --version"),
        ("bc", "bc --version"),
        ("pahole", "pahole --version"),
        ("perl", "perl -e 'print $^V'"),
        ("openssl", "openssl version"),
        ("tar", "tar --version"),
        ("xz", "xz --version"),
    ],
    "bpf": [
        ("clang-19", "clang-19 --version"),
        ("llvm-strip-19", "llvm-strip-19 --version | grep -i version"),
        ("gcc", "gcc --version"),
        ("ld", "ld --version"),
        ("make", "make --version"),
        ("pkg-config", "pkg-config --version"),
    ],
    "initramfs": [
        ("busybox", "busybox 2>&1 | head -n1"),
        ("ldd", "ldd --version"),
    ],
    "qemu": [
        ("qemu-system-x86_64", "qemu-system-x86_64 --version"),
        # The raw facts engines/kvm.py decides from, not its verdict (one home for that):
        # every kvm module loaded, and whether /dev/kvm exists and is ours to use.
        ("kvm-modules", "ls -d /sys/module/kvm* 2>/dev/null | sed 's#.*/##' | tr '\\n' ' '; echo"),
        ("dev-kvm", "if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo usable; " +
                    "elif [ -e /dev/kvm ]; then echo present; else echo absent; fi"),
    ],
}

# Debian packages whose libraries or data end up in the outputs (linked or packed).
_PACKAGES = {
    "kernel": ["gcc", "binutils", "dwarves", "libelf-dev", "libssl-dev", "flex", "bison", "make"],
    "bpf": ["clang-19", "llvm-19", "lld-19", "libelf-dev", "zlib1g-dev", "libzstd-dev", "libcap-dev", "libc6-dev"],
    # rt-tests and stress-ng: the payload programs ktstr_initramfs(host_programs) packs.
    "initramfs": ["busybox-static", "libc6", "libelf1", "zlib1g", "libzstd1", "libcap2", "rt-tests", "stress-ng"],
    "qemu": ["qemu-system-x86", "qemu-system-data", "seabios"],
}

_PATH = "/bin:/usr/bin:/usr/local/bin"

def _first_line(rctx, command):
    res = rctx.execute(["sh", "-c", command + " 2>&1"], environment = {"PATH": _PATH, "LC_ALL": "C"})
    lines = [line.strip() for line in res.stdout.splitlines() if line.strip()]
    if res.return_code != 0 and not lines:
        return "absent"
    return lines[0] if lines else "absent"

def _package_versions(rctx, names):
    if rctx.which("dpkg-query") == None:
        return ["dpkg=absent"]
    res = rctx.execute(["dpkg-query", "-W", "-f=${Package}=${Version}\n"] + names)

    # Packages not installed are simply left out: the tool lines above still say it.
    return sorted([line for line in res.stdout.splitlines() if line.strip() and not line.endswith("=")])

# The command each tool line needs, and the Debian package that provides it.
_PROVIDERS = {
    "gcc": "gcc",
    "ld": "binutils",
    "make": "make",
    "flex": "flex",
    "bison": "bison",
    "bc": "bc",
    "pahole": "dwarves",
    "perl": "perl",
    "openssl": "openssl",
    "tar": "tar",
    "xz": "xz-utils",
    "clang-19": "clang-19",
    "llvm-strip-19": "llvm-19",
    "pkg-config": "pkg-config",
    "busybox": "busybox-static",
    "ldd": "libc-bin",
    "qemu-system-x86_64": "qemu-system-x86",
}

# The actions each kind's file feeds, for the message of a missing tool.
_USERS = {
    "kernel": "the kernel actions (KernelConfig, KernelBuild)",
    "bpf": "the BPF scheduler actions (KtstrSchedExt, KtstrBpfScheduler, the selftests)",
    "initramfs": "the initramfs actions (KtstrInitramfs)",
    "qemu": "VM tests",
}

def failing_genrule(name, out, message):
    """BUILD text of a genrule whose one output fails to build, printing `message`.

    What a repository rule generates in place of what this machine lacks (a host tool, a
    kernel source package): the repository still loads, so queries and analysis work, and
    only a build that needs the missing piece fails, saying what to install.

    Args:
      name: the genrule's name.
      out: its output's name (what the real file would be called).
      message: one line; quotes and $ are dropped (it is echoed by the genrule's shell).

    Returns:
      The genrule, as BUILD file text.
    """
    text = message.replace("'", "").replace('"', "").replace("$", "")
    return """
genrule(
    name = "{name}",
    outs = ["{out}"],
    cmd = "echo '{text}' >&2; exit 1",
    visibility = ["//visibility:public"],
)
""".format(name = name, out = out, text = text)

def _missing_message(kind, missing):
    """What a build that needs `kind`'s tools says when `missing` of them are absent.

    Args:
      kind: a key of _TOOLS.
      missing: the absent tool names (keys of _PROVIDERS).

    Returns:
      One line naming the tools, the actions that need them and the Debian packages.
    """
    return ("ktstr: %s need %s, missing on this machine. On Debian: apt-get install %s " +
            "(in a ktstr checkout ./bazelw setup installs everything); elsewhere install " +
            "your distribution's equivalents.") % (
        _USERS[kind],
        ", ".join(missing),
        " ".join(sorted({_PROVIDERS[t]: None for t in missing}.keys())),
    )

def _ktstr_host_tools_impl(rctx):
    present, build = [], ""
    for kind, tools in _TOOLS.items():
        missing = [name for name, _ in tools if name in _PROVIDERS and rctx.which(name) == None]
        if missing:
            # The rule never fails: a machine without QEMU (or compilers) still queries and
            # analyses everything, and builds what needs none of the missing tools.
            build += failing_genrule(kind + "_missing", kind + ".txt", _missing_message(kind, missing))
            continue
        lines = ["# %s tools of this host (generated by @ktstr//rules:private/host_tools.bzl)" % kind]
        lines += ["%s: %s" % (name, _first_line(rctx, cmd)) for name, cmd in tools]
        lines += ["package: " + p for p in _package_versions(rctx, _PACKAGES[kind])]
        rctx.file(kind + ".txt", "\n".join(lines) + "\n")
        present.append(kind + ".txt")
    rctx.file("BUILD.bazel", "exports_files(%r, visibility = [\"//visibility:public\"])\n" %
                             sorted(present) + build)
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

ktstr_host_tools = repository_rule(
    implementation = _ktstr_host_tools_impl,
    doc = "Versions of the host tools ktstr's actions use, one file per kind of action.",
    environ = ["PATH", "KTSTR_HOST_TOOLS_STAMP"],
    local = True,
)

# The environment of every action that runs host tools: fixed, so that neither the user's
# PATH nor a monorepo's --action_env changes what builds a kernel under the same key.
ACTION_ENV = {"PATH": _PATH, "LC_ALL": "C", "TZ": "UTC"}
