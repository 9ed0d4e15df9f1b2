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
