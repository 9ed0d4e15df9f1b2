"""Lines the guest agent writes into the kernel log for the host to read on the console.

The result stream (COM2) says what each test reported; the console (COM1) holds what the
kernel said. A mark written to /dev/kmsg as a test begins lands in the kernel log in order
with the kernel's own lines, so the host can tell which test a splat or a sched_ext exit
happened under (ktstr.host.console_scan.split_by_test).
"""

TEST_MARK = "ktstr: test {name} begins"
