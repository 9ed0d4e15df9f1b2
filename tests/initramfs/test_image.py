"""//initramfs:base: contents, determinism, and a real boot under QEMU in which Python starts."""

import json
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ktstr.initramfs import pack
from ktstr.initramfs.cpio import read_entries
from tests.vm_inputs import default_kernel_file

BASE = Path("initramfs/base.cpio")
PROBE = Path("tests/initramfs/python_probe.cpio")
KERNEL = default_kernel_file()


def _bin(p: Path) -> Path:
    # Data files live under the runfiles tree; from a plain checkout they are in bazel-bin.
    return p if p.exists() else Path("bazel-bin") / p


@pytest.fixture(scope="module")
def base_entries():
    return {e[0]: e for e in read_entries(_bin(BASE).read_bytes())}


def test_base_has_init_devices_python_and_agent(base_entries):
    init = base_entries["init"]
    assert stat.S_IMODE(init[1]) == 0o755 and b"ktstr.guest.agent" in init[2]
    assert base_entries["dev/console"][3] == (5, 1)
    assert "usr/bin/python3.11" in base_entries
    assert any(p.endswith("ld-linux-x86-64.so.2") for p in base_entries)
    assert any(p.endswith("/libc.so.6") for p in base_entries)
    assert "opt/ktstr/lib/google/protobuf/__init__.py" in base_entries
    assert "opt/ktstr/lib/ktstr/initramfs/cpio.py" in base_entries
    pyc = [p for p in base_entries if p.startswith("usr/lib/python3.11/__pycache__/os.")]
    assert pyc, "stdlib bytecode missing"
    assert "usr/lib/python3.11/test/__init__.py" not in base_entries  # pruned
    assert "usr/bin/sh" in base_entries  # busybox applets


def test_packing_twice_is_byte_identical(tmp_path):
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"python_runtime": True, "init": "agent",
                                    "busybox": "/bin/busybox"}))
    # Two processes, as two Bazel actions would be (bytecode from one process can differ on a
    # second compile in the same process: marshal's reference flags follow refcounts).
    outs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.cpio"
        subprocess.run([sys.executable, "-m", "ktstr.initramfs.pack", "--manifest", str(manifest),
                        "--out", str(out)], check=True)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_missing_library_fails_naming_it(tmp_path, capsys):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on this host to build the probe binary")
    (tmp_path / "lib.c").write_text("int f(void) { return 1; }\n")
    (tmp_path / "m.c").write_text("int f(void);\nint main(void) { return f(); }\n")
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(tmp_path / "libgone.so"), str(tmp_path / "lib.c")], check=True)
    subprocess.run([cc, "-o", str(tmp_path / "exe"), str(tmp_path / "m.c"), f"-L{tmp_path}", "-lgone"], check=True)
    (tmp_path / "libgone.so").unlink()
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"binaries": [{"dest": "/usr/bin/exe", "src": str(tmp_path / "exe")}]}))
    rc = pack.main(["--manifest", str(manifest), "--out", str(tmp_path / "o.cpio")])
    assert rc == 1
    assert "libgone.so" in capsys.readouterr().err


def test_python_starts_in_the_guest(tmp_path):
    if KERNEL is None:
        pytest.skip("no //kernels:default: run under Bazel or `bazel build //kernels:default` first")
    qemu = shutil.which("qemu-system-x86_64")
    assert qemu, "qemu-system-x86 is in tools/debian-packages.txt"
    initrd = tmp_path / "initrd.cpio"
    with initrd.open("wb") as f:
        for part in (_bin(BASE), _bin(PROBE)):
            f.write(part.read_bytes())
    start = time.monotonic()
    proc = subprocess.run(
        [qemu, "-M", "pc,accel=tcg", "-smp", "2", "-m", "512", "-nographic", "-no-reboot",
         "-kernel", str(KERNEL), "-initrd", str(initrd),
         # PYTHONHASHSEED reaches init's environment: Python must not wait for the CRNG.
         "-append", "console=ttyS0 panic=-1 reboot=t quiet PYTHONHASHSEED=0"],
        capture_output=True, timeout=120)
    wall = time.monotonic() - start
    console = proc.stdout.decode(errors="replace")
    assert "KTSTR-PROBE-OK python=3.11" in console, console[-3000:]
    assert "Kernel panic" not in console
    print(f"boot to poweroff: {wall:.2f}s")
