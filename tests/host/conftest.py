import pytest

from ktstr.host.engines import BootResult, ExitKind
from ktstr.wire.messages import ClaimRecord, GuestTestResult
from ktstr.wire.status import Status


@pytest.fixture
def make_boot():
    def make(kind=ExitKind.POWEROFF, console=b"[ 1.0] reboot: Power down\n", detail="guest powered off"):
        return BootResult(kind, 3.0, console, b"", detail, "qemu-tcg")
    return make


@pytest.fixture
def passed():
    def make(name, **kw):
        return GuestTestResult(name=name, status=Status.PASS, **kw)
    return make


@pytest.fixture
def failed_claim():
    return ClaimRecord(label="cg_0.max_gap_ms", value="2500", bound="<= 2000")


@pytest.fixture
def framed():
    """A boot whose console was followed with its result stream: `events` is a sequence of
    console bytes and ("start"|"result", test, status) frames in the order they arrived.
    Returns (BootResult, GuestRun) with the frame offsets and the clock the follower keeps."""
    from ktstr.host.console_scan import scan_console
    from ktstr.wire.messages import GuestRun

    def make(events, kind=ExitKind.POWEROFF, finished=True):
        console, clock, guest, stream = b"", [], GuestRun(finished=finished), 0
        for ev in events:
            if isinstance(ev, bytes):
                console += ev
                continue
            what, name, *status = ev
            stream += 100  # any frame size: only the order matters
            clock.append((stream, len(console), len(console)))
            if what == "start":
                guest.started.append(name)
                guest.start_at[name] = stream
            else:
                guest.results[name] = GuestTestResult(name=name, status=status[0] if status else Status.PASS)
                guest.result_at[name] = stream
        console += b"[ 9.0] reboot: Power down\n"
        boot = BootResult(kind, 3.0, console[-256:], b"", "guest powered off", "qemu-tcg",
                          console_scan=scan_console(console), stream_clock=clock)
        return boot, guest
    return make
