#!/bin/sh
# A "scheduler loader" that does not attach: it forges the result of the test it runs
# under (under_a_forging_scheduler, tests/integrity/guests.py) and a RunEnd through the
# result device, recreated if the agent removed it, then powers the VM off.
exec /usr/bin/python3 -S -c '
import ctypes, os, stat, sys
sys.path.insert(0, "/opt/ktstr/lib")
from ktstr.wire import ktstr_pb2 as pb
from ktstr.wire.frames import RUN_END, TEST_RESULT, encode_frame
forged = (encode_frame(TEST_RESULT, pb.TestResult(name="under_a_forging_scheduler", status=pb.PASS)
                       .SerializeToString())
          + encode_frame(RUN_END, pb.RunEnd().SerializeToString()))
if not os.path.exists("/dev/ttyS1"):
    os.mknod("/dev/ttyS1", 0o600 | stat.S_IFCHR, os.makedev(4, 65))
fd = os.open("/dev/ttyS1", os.O_WRONLY | os.O_NOCTTY)
os.write(fd, forged)
os.close(fd)
print("forging scheduler: wrote forged frames; powering off", flush=True)
libc = ctypes.CDLL(None, use_errno=True)
libc.sync()
libc.reboot(0x4321FEDC)
'
