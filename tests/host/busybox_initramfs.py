"""Build a tiny busybox initramfs whose /init misbehaves on purpose (harness tests).

Modes (what /init does after mounting proc/sys/dev):
  hang     sleeps forever: the host must kill the VM at its timeout and say so
  panic    exits: the kernel panics ("Attempted to kill init")
  corrupt  writes garbage and a frame with a bad CRC to COM2, then powers off
  splat    triggers a kernel crash through sysrq (a BUG/Oops splat, then panic)
  topo     prints the CPU/LLC/NUMA layout the guest sees, then powers off
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from ktstr.wire.frames import encode_frame
from ktstr.host.run_layer import LayerFile, cpio_newc

APPLETS = ["sh", "mount", "cat", "echo", "ls", "poweroff", "sleep", "printf", "wc", "basename", "stty"]

PRELUDE = """#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
"""

SCRIPTS = {
    "hang": "echo ktstr-test: hanging on purpose\nwhile true; do sleep 1000; done\n",
    "panic": "echo ktstr-test: init exits on purpose\nexit 1\n",
    "corrupt": ("stty -F /dev/ttyS1 raw -echo\n"
                "cat /corrupt.bin > /dev/ttyS1\n"
                "echo ktstr-test: wrote corrupt frames\npoweroff -f\n"),
    "splat": "echo 1 > /proc/sys/kernel/sysrq\necho c > /proc/sysrq-trigger\n",
    "topo": ("echo NCPU $(ls -d /sys/devices/system/cpu/cpu[0-9]* | wc -l)\n"
             "for c in /sys/devices/system/cpu/cpu[0-9]*; do echo \"$(basename $c) "
             "llc=$(cat $c/cache/index3/shared_cpu_list) node=$(ls -d $c/node* | wc -l)\"; done\n"
             "ls /sys/devices/system/node | grep node\npoweroff -f\n"),
}


def build(mode: str, busybox: Path) -> bytes:
    files = [
        LayerFile("init", (PRELUDE + SCRIPTS[mode]).encode(), 0o755),
        LayerFile("bin/busybox", busybox.read_bytes(), 0o755),
        LayerFile("dev/console", b"", stat.S_IFCHR | 0o600, (5, 1)),
        LayerFile("proc/.keep", b""),
        LayerFile("sys/.keep", b""),
    ]
    files += [LayerFile(f"bin/{a}", b"busybox", stat.S_IFLNK | 0o777) for a in APPLETS]
    if mode == "corrupt":
        bad = bytearray(encode_frame(4, b"\x0a\x04test"))
        bad[-1] ^= 0x55
        files.append(LayerFile("corrupt.bin", b"line noise" + bytes(bad)))
    return cpio_newc(files)


def main() -> int:
    if len(sys.argv) != 4 or sys.argv[1] not in SCRIPTS:
        print(f"usage: busybox_initramfs.py {{{'|'.join(SCRIPTS)}}} BUSYBOX OUT.cpio", file=sys.stderr)
        return 2
    Path(sys.argv[3]).write_bytes(build(sys.argv[1], Path(sys.argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
