#!/usr/bin/python3.11 -S
# Test init: import what the agent imports, print a marker, power off.
import ctypes
import sys
import time

sys.path.insert(0, "/opt/ktstr/lib")
t0 = time.monotonic()
import json, subprocess, termios, struct, zlib  # noqa: E401,F401
from google.protobuf import descriptor_pb2  # noqa: F401
import ktstr.initramfs.cpio  # noqa: F401

print(f"KTSTR-PROBE-OK python={sys.version.split()[0]} imports_s={time.monotonic() - t0:.2f}",
      flush=True)
libc = ctypes.CDLL(None, use_errno=True)
libc.sync()
libc.reboot(0x4321FEDC)  # LINUX_REBOOT_CMD_POWER_OFF
