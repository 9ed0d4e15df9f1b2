"""Build an initramfs layer from a JSON manifest (the tool behind the ktstr_initramfs rule).

Manifest:
  {
    "files":    [{"dest": "/etc/x", "src": "path", "mode": 420}],   # as they are
    "binaries": [{"dest": "/usr/bin/x", "src": "path"}],            # + shared-library closure
    "python_sources": [{"dest": "/opt/ktstr/lib/ktstr/x.py", "src": "path"}],  # + bytecode
    "python_runtime": true,     # interpreter, closure, pruned stdlib, site-packages
    "init": "agent" | {"src": "path"} | null,
    "busybox": "/bin/busybox" | null,
    "host_programs": ["hackbench"],  # from the host's PATH to /usr/bin/, + closure
    "devices": true             # /dev/console, /dev/null
  }
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ktstr.initramfs.closure import ClosureError, closure
from ktstr.initramfs.cpio import COMPRESSIONS, Archive, CpioError
from ktstr.initramfs import python_runtime


def add_busybox(archive: Archive, busybox: str) -> None:
    archive.add_file("/usr/bin/busybox", busybox, 0o755)
    proc = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True)
    for applet in sorted(set(proc.stdout.split())):
        dest = f"/usr/bin/{applet}"
        if applet != "busybox" and dest not in archive:
            archive.add_symlink(dest, "busybox")
    for link in ("bin", "sbin"):
        if link not in archive:
            archive.add_symlink(f"/{link}", "usr/bin")


# The Debian package each payload program comes from (tools/debian-packages.txt installs them).
HOST_PROGRAM_PACKAGES = {"hackbench": "rt-tests", "cyclictest": "rt-tests", "stress-ng": "stress-ng"}


def find_host_program(name: str) -> str:
    """A payload program from the host (Debian-packaged like busybox and QEMU)."""
    if "/" in name:
        raise CpioError(f"host program {name!r}: give a program name found on PATH, not a path "
                        f"(use `binaries` for files built by Bazel)")
    path = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    if path is None:
        pkg = HOST_PROGRAM_PACKAGES.get(name, "the package providing it")
        raise CpioError(f"host program {name!r} not found: install {pkg} (apt-get install {pkg}; "
                        f"./bazelw installs tools/debian-packages.txt)")
    return os.path.realpath(path)


def build(manifest: dict) -> Archive:
    archive = Archive()
    if manifest.get("devices", True):
        archive.add_standard_devices()
        for d in ("proc", "sys", "tmp", "run", "dev/shm"):
            archive.add_dir(f"/{d}", 0o1777 if d == "tmp" else 0o755)
    layout = None
    if manifest.get("python_runtime"):
        layout = python_runtime.add_runtime(archive)
    for item in manifest.get("python_sources", []):
        python_runtime.add_python_source(archive, item["dest"], item["src"])
    bins = []
    for item in manifest.get("binaries", []):
        archive.add_file(item["dest"], item["src"], item.get("mode", 0o755))
        bins.append(item["src"])
    for name in manifest.get("host_programs", []):
        src = find_host_program(name)
        archive.add_file(f"/usr/bin/{name}", src, 0o755)
        bins.append(src)
    # The layer's own files may hold libraries its binaries load; any other non-system path
    # a binary names is refused (closure.py).
    own = [item["src"] for item in manifest.get("files", [])]
    for lib in closure(bins, own=own):
        archive.add_host_path(lib)
    for item in manifest.get("files", []):
        archive.add_file(item["dest"], item["src"], item.get("mode"))
    if manifest.get("busybox"):
        add_busybox(archive, manifest["busybox"])
    init = manifest.get("init")
    if init == "agent":
        if layout is None:
            raise CpioError("init 'agent' needs python_runtime = True (the agent is Python)")
        archive.add_bytes("/init", python_runtime.agent_init(layout), 0o755)
    elif isinstance(init, dict):
        archive.add_file("/init", init["src"], 0o755)
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pack an initramfs layer from a manifest")
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--compression", default="none", choices=COMPRESSIONS)
    parser.add_argument("--list", type=Path, help="also write the sorted entry list here")
    args = parser.parse_args(argv)
    try:
        archive = build(json.loads(args.manifest.read_text()))
        archive.write(args.out, args.compression)
    except (ClosureError, CpioError) as exc:
        print(f"ktstr_initramfs: {exc}", file=sys.stderr)
        return 1
    if args.list:
        args.list.write_text("".join(f"/{p}\n" for p in archive.paths()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
