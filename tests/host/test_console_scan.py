import os

from ktstr.host.console_scan import find_scx_exits, find_splats
from ktstr.host.engines import ExitKind


def first_error_exit(console):
    return next((e for e in find_scx_exits(console) if e.is_error), None)

WARN = b"""[    3.101000] ------------[ cut here ]------------
[    3.101100] WARNING: CPU: 1 PID: 77 at kernel/sched/ext.c:1234 scx_foo+0x10/0x20
[    3.101200] Modules linked in:
[    3.101300] Call Trace:
"""


def test_warning_is_a_splat_with_context():
    splats = find_splats(WARN)
    assert [s.kind for s in splats] == ["WARNING"]
    assert "kernel/sched/ext.c:1234" in splats[0].line
    assert any("Call Trace" in c for c in splats[0].context)


def test_each_splat_kind_is_named():
    console = b"\n".join([
        b"[ 1.0] BUG: kernel NULL pointer dereference, address: 0000000000000008",
        b"[ 2.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100",
        b"[ 3.0] WARNING: possible circular locking dependency detected",
        b"[ 4.0] INFO: task kworker/0:1:12 blocked for more than 10 seconds.",
        b"[ 5.0] rcu: INFO: rcu_preempt self-detected stall on CPU",
        b"[ 6.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [spin:99]",
        b"[ 7.0] Oops: general protection fault, probably for non-canonical address",
        b"<4>[ 8.0] kernel BUG at mm/slub.c:123!",
    ])
    assert [s.kind for s in find_splats(console)] == [
        "BUG", "panic", "lockdep", "hung_task", "rcu_stall", "soft_lockup", "oops", "BUG"]


def test_ordinary_boot_lines_are_not_splats():
    console = b"""[    0.1] Linux version 6.12.0
[    0.2] WARNING unrelated word in the middle: no
[    0.3] ACPI BIOS Warning (bug): something harmless
[    0.4] sched_ext: BPF scheduler "simple" enabled
"""
    assert find_splats(console) == []


def test_stall_exit_reason_and_message_are_read():
    console = b"""[    5.0] sched_ext: BPF scheduler "qmap" enabled
[    9.1] sched_ext: BPF scheduler "qmap" disabled (runnable task stall)
[    9.1] sched_ext: qmap: kworker/1:2[45] failed to run for 5.120s
"""
    ex = first_error_exit(console)
    assert ex is not None
    assert (ex.scheduler, ex.reason) == ("qmap", "runnable task stall")
    assert ex.message == "kworker/1:2[45] failed to run for 5.120s"
    assert ex.text() == 'BPF scheduler "qmap" disabled (runnable task stall): kworker/1:2[45] failed to run for 5.120s'


def test_normal_unregister_is_not_an_error():
    console = b'[ 9.0] sched_ext: BPF scheduler "simple" disabled (unregistered from user space)\n'
    exits = find_scx_exits(console)
    assert len(exits) == 1 and not exits[0].is_error
    assert first_error_exit(console) is None


def test_scx_bpf_error_text_is_kept():
    console = (b'sched_ext: BPF scheduler "bad" disabled (scx_bpf_error)\n'
               b"sched_ext: bad: invalid DSQ ID 0x1234 (expected)\n")
    assert first_error_exit(console).text() == ('BPF scheduler "bad" disabled (scx_bpf_error): '
                                                "invalid DSQ ID 0x1234 (expected)")


def test_streaming_scan_is_the_same_in_any_chunking_and_keeps_offsets():
    from ktstr.host.console_scan import ConsoleScanner, scan_console

    console = (b"[ 0.1] boot\r\n[ 1.0] WARNING: CPU: 0 PID: 1 at x.c:1 f\n[ 1.0] Call Trace:\n"
               b'[ 2.0] sched_ext: BPF scheduler "s" disabled (runnable task stall)\n'
               b"[ 2.0] sched_ext: s: w[9] failed to run for 5.0s\n[ 3.0] BUG: oops")
    whole = scan_console(console)
    scanner = ConsoleScanner()
    for i in range(len(console)):
        scanner.feed(console[i:i + 1])
    bytewise = scanner.finish()
    assert whole == bytewise
    assert [(at, s.kind) for at, s in whole.splats] == [(13, "WARNING"), (console.index(b"[ 3.0]"), "BUG")]
    assert whole.splats[0][1].context[0] == "[ 1.0] Call Trace:"
    [(at, ex)] = whole.scx_exits
    assert at == console.index(b"[ 2.0]") and ex.message == "w[9] failed to run for 5.0s"


def test_streaming_scan_holds_no_more_than_a_line_of_a_line_without_end():
    from ktstr.host.console_scan import ConsoleScanner
    from ktstr.wire.bounds import MAX_LINE_BYTES

    scanner = ConsoleScanner()
    scanner.feed(b"[ 1.0] WARNING: CPU: 0 PID: 1 at x.c:1 f " + b"x" * (8 << 20))
    assert scanner._lines.pending <= MAX_LINE_BYTES
    scan = scanner.finish()
    assert [s.kind for _, s in scan.splats] == ["WARNING"] and scan.total_bytes > 8 << 20


def test_capped_log_keeps_head_and_rotating_tail_with_the_elided_count(tmp_path):
    """Issue 22: the console on disk has a cap. Whatever the chunking, the file holds the
    stream's first `head` bytes, one line saying how many were elided, and its last bytes."""
    from ktstr.host.engines.boot_io import CappedLog

    stream = bytes(i % 251 for i in range(10_000))
    for chunk in (1, 7, 64, 333, 5000):
        log = CappedLog(tmp_path / "c.log", head=100, tail=50)
        for i in range(0, len(stream), chunk):
            log.write(stream[i:i + chunk])
        log.close()
        data = (tmp_path / "c.log").read_bytes()
        gap = f"[ktstr: {log.elided} bytes of console elided here".encode()
        assert data.startswith(stream[:100] + b"\n" + gap), chunk
        kept_tail = data[data.index(b"]\n") + 2:]
        assert 50 <= len(kept_tail) <= 100 and stream.endswith(kept_tail), chunk
        assert log.elided == len(stream) - 100 - len(kept_tail)
        assert len(data) <= 100 + 2 * 50 + 200


def test_console_file_is_capped_and_the_scan_still_sees_the_elided_middle(tmp_path):
    """A guest printing 20 MiB: the file stays under head + 2 x tail (+ the gap's line),
    and a splat in the elided middle is still found (the scanner reads the pipe, not the file).
    Its 12 MiB result stream: the file keeps RESULT_STREAM_CAP, the rest is counted."""
    from ktstr.host.engines import BootSpec
    from ktstr.host.engines.boot_io import BootIO
    from ktstr.topology import Topology
    from ktstr.wire.bounds import CONSOLE_FILE_HEAD, CONSOLE_FILE_TAIL, RESULT_STREAM_CAP

    spec = BootSpec(kernel=tmp_path / "k", initrds=(), cmdline="", topology=Topology.parse("1n1l1c1t"),
                    memory_mib=64, timeout_s=5, console_path=tmp_path / "console.log",
                    result_path=tmp_path / "r.bin", work_dir=tmp_path)
    io = BootIO("fake", spec)
    spec.result_path.write_bytes(b"")
    line = b"[ 1.0] noise " + b"x" * 1010 + b"\n"  # 1 KiB a line
    with io.following() as pipes:
        for i in range(20 * 1024):
            os.write(pipes.console, line)
            if i == 10 * 1024:
                os.write(pipes.console, b"[ 2.0] BUG: planted in the middle\n")
            if i < 12 * 1024:
                os.write(pipes.results, b"r" * 1024)
    result = io.result(ExitKind.POWEROFF, "powered off", [])
    assert spec.result_path.stat().st_size == RESULT_STREAM_CAP
    assert len(result.result_stream) == RESULT_STREAM_CAP
    assert result.result_stream_elided == 12 * 1024 * 1024 - RESULT_STREAM_CAP
    size = (tmp_path / "console.log").stat().st_size
    assert size <= CONSOLE_FILE_HEAD + 2 * CONSOLE_FILE_TAIL + 200, size
    assert b"bytes of console elided here" in (tmp_path / "console.log").read_bytes()
    assert [s.line for _, s in result.console_scan.splats] == ["[ 2.0] BUG: planted in the middle"]
    assert result.console_scan.total_bytes == 20 * 1024 * len(line) + 34


def test_a_console_file_that_cannot_be_written_never_blocks_the_guest(tmp_path):
    """A full disk (/dev/full): the follower keeps draining and scanning the pipe, so the
    guest's writes never block, and the boot's detail says what the host could not write."""
    import time
    from pathlib import Path

    from ktstr.host.engines import BootSpec
    from ktstr.host.engines.boot_io import BootIO
    from ktstr.topology import Topology

    spec = BootSpec(kernel=tmp_path / "k", initrds=(), cmdline="", topology=Topology.parse("1n1l1c1t"),
                    memory_mib=64, timeout_s=5, console_path=Path("/dev/full"),
                    result_path=tmp_path / "r.bin", work_dir=tmp_path)
    io = BootIO("fake", spec)
    data = b"x" * (4 << 20) + b"\n[ 2.0] BUG: after the disk filled\n"
    with io.following() as pipes:
        os.set_blocking(pipes.console, False)  # a stuck follower fails the test, never hangs it
        sent, end = 0, time.monotonic() + 10
        while sent < len(data) and time.monotonic() < end:
            try:
                sent += os.write(pipes.console, data[sent:sent + 65536])
            except BlockingIOError:
                time.sleep(0.005)
    result = io.result(ExitKind.POWEROFF, "powered off", [], console=b"")  # /dev/full reads zeros forever
    assert sent == len(data), f"the guest could write only {sent} bytes: the follower stopped draining"
    assert "the host could not write the console file: [Errno 28]" in result.detail
    assert [s.line for _, s in result.console_scan.splats] == ["[ 2.0] BUG: after the disk filled"]
