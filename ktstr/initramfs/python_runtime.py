"""The guest's Python: the interpreter running this build, its library closure, a pruned
stdlib and the site-packages the guest agent needs, with precompiled bytecode.

Bytecode is compiled here as *unchecked-hash* .pyc files: the archive's mtimes are all 0,
so timestamp-based .pyc files (what Debian ships) would all look stale in the guest and
Python would recompile every module at every boot, which costs seconds under TCG.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
from dataclasses import dataclass
from importlib._bootstrap_external import _code_to_hash_pyc  # type: ignore[attr-defined]  # the stdlib's own pyc writer

from ktstr.errors import KtstrError
from ktstr.initramfs.cpio import Archive
from ktstr.initramfs.closure import closure


class PythonRuntimeError(KtstrError, RuntimeError):
    """The build's Python cannot be packed for the guest (a module the agent needs is missing)."""


GUEST_LIB = "/opt/ktstr/lib"  # ktstr and its site-packages live here in the guest

# Stdlib parts the guest never imports; together about half of the stdlib's size.
STDLIB_EXCLUDE = {
    "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
    "distutils", "venv", "site-packages", "dist-packages", "__pycache__", "config-3.11-x86_64-linux-gnu",
    "sqlite3", "dbm", "curses", "xmlrpc", "wsgiref", "turtle.py", "pydoc.py",
}
# Extension modules that would drag in large or absent libraries and that the guest never needs.
DYNLOAD_EXCLUDE_PREFIXES = ("_tkinter", "_sqlite3", "_dbm", "_gdbm", "_curses", "readline",
                            "_test", "xxlimited", "_xxtestfuzz", "_ctypes_test")
# Packages from the build's site-packages the guest agent imports.
SITE_PACKAGES = ("google",)


@dataclass(frozen=True)
class PythonLayout:
    executable: str  # real interpreter binary, e.g. /usr/bin/python3.11
    stdlib: str  # e.g. /usr/lib/python3.11
    dynload: str  # e.g. /usr/lib/python3.11/lib-dynload
    site_packages: str  # where SITE_PACKAGES are found (the build venv)
    version: str  # "3.11"


def host_layout() -> PythonLayout:
    stdlib = sysconfig.get_path("stdlib", vars={"installed_base": sys.base_prefix, "base": sys.base_prefix})
    spec = importlib.util.find_spec("google.protobuf")
    if spec is None or not spec.submodule_search_locations:
        raise PythonRuntimeError("the build's Python lacks protobuf (requirements.txt); run ./bazelw")
    site = os.path.dirname(os.path.dirname(next(iter(spec.submodule_search_locations))))
    return PythonLayout(
        executable=os.path.realpath(sys.executable),
        stdlib=stdlib,
        dynload=os.path.join(stdlib, "lib-dynload"),
        site_packages=site,
        version="%d.%d" % sys.version_info[:2],
    )


def pyc_bytes(source: bytes, guest_path: str) -> bytes | None:
    """Unchecked-hash bytecode for a source file, or None if it does not compile (a few
    stdlib files are Python-2 fixtures)."""
    try:
        code = compile(source, guest_path, "exec", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError):
        return None
    return bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False))


def add_python_source(archive: Archive, dest: str, source_path: str) -> None:
    """A .py file plus its __pycache__ bytecode."""
    data = open(source_path, "rb").read()
    archive.add_bytes(dest, data, 0o644)
    pyc = pyc_bytes(data, dest)
    if pyc is not None:
        head, tail = os.path.split(dest)
        tag = sys.implementation.cache_tag
        archive.add_bytes(f"{head}/__pycache__/{tail[:-3]}.{tag}.pyc", pyc, 0o644)


def _walk_tree(root: str, exclude: set[str]):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in exclude)
        for name in sorted(filenames):
            if name not in exclude:
                yield os.path.join(dirpath, name)


def add_tree(archive: Archive, host_root: str, guest_root: str, exclude: set[str]) -> list[str]:
    """Copy a Python tree: .py with bytecode, extension modules and data files as they are.
    Returns the extension modules added (their library closure is the caller's)."""
    exts = []
    for path in _walk_tree(host_root, exclude):
        rel = os.path.relpath(path, host_root)
        dest = f"{guest_root}/{rel}"
        if path.endswith(".py"):
            add_python_source(archive, dest, path)
        elif path.endswith((".pyc", ".pyo")):
            continue
        else:
            archive.add_file(dest, path)
            if path.endswith(".so"):
                exts.append(path)
    return exts


def add_runtime(archive: Archive, layout: PythonLayout | None = None) -> PythonLayout:
    layout = layout or host_layout()
    binaries = [archive.add_host_path(layout.executable)]
    name = os.path.basename(layout.executable)
    archive.add_symlink(os.path.join(os.path.dirname(layout.executable), "python3"), name)

    add_tree(archive, layout.stdlib, layout.stdlib,
             STDLIB_EXCLUDE | {"lib-dynload"})
    for so in sorted(os.listdir(layout.dynload)):
        if so.endswith(".so") and not so.startswith(DYNLOAD_EXCLUDE_PREFIXES):
            path = os.path.join(layout.dynload, so)
            archive.add_file(path, path)
            binaries.append(path)
    trees = [os.path.join(layout.site_packages, pkg) for pkg in SITE_PACKAGES]
    for pkg, tree in zip(SITE_PACKAGES, trees, strict=True):
        binaries += add_tree(archive, tree, f"{GUEST_LIB}/{pkg}", {"__pycache__"})
    # The packed packages are the image's own files (a wheel may carry its libraries).
    for lib in closure(binaries, own=trees):
        archive.add_host_path(lib)
    return layout


AGENT_INIT = f"""#!{{python}} -S
# ktstr guest init: the agent runs the tests named in /ktstr/run.json.
import sys
sys.path.insert(0, "{GUEST_LIB}")
from ktstr.guest.agent import main
sys.exit(main())
"""


def agent_init(layout: PythonLayout) -> str:
    return AGENT_INIT.format(python=layout.executable)
