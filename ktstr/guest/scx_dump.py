"""The kernel's sched_ext debug dump, captured through its trace event.

When sched_ext throws a scheduler out with an error (a stall, scx_bpf_error, a runtime
error), the kernel writes a dump of the scheduler's state (the exit reason, a backtrace,
every CPU's run queue and the tasks on it) line by line to the `sched_ext:sched_ext_dump`
trace event, whether or not the scheduler's own loader is still alive to print it (a
starved loader is not). The agent enables the event at start, clears the buffer as each
test begins and reads the dump back when the scheduler died.
"""

from __future__ import annotations

TRACING = "/sys/kernel/tracing"
EVENT_ENABLE = f"{TRACING}/events/sched_ext/sched_ext_dump/enable"
_TAG = "sched_ext_dump: "
MAX_DUMP_BYTES = 64 * 1024  # the kernel's default dump is at most 32 KiB


def _write(path: str, text: str) -> bool:
    try:
        with open(path, "w") as f:
            f.write(text)
        return True
    except OSError:
        return False


class ScxDump:
    def __init__(self) -> None:
        self.enabled = _write(EVENT_ENABLE, "1")  # False on kernels without the event

    def clear(self) -> None:
        if self.enabled:
            _write(f"{TRACING}/trace", "")  # truncating the file empties the ring buffer

    def collect(self) -> str:
        """The dump lines recorded since the last clear(), without the trace prefixes."""
        if not self.enabled:
            return ""
        try:
            with open(f"{TRACING}/trace", errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        return extract(text)


def extract(trace: str) -> str:
    """`  kworker/u4:1-45  [001] d..2.  8.66: sched_ext_dump: CPU 1 ...` -> `CPU 1 ...`"""
    lines = [line.split(_TAG, 1)[1] for line in trace.splitlines() if _TAG in line]
    dump = "\n".join(lines)
    return dump[:MAX_DUMP_BYTES]
