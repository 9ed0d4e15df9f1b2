import pytest

from ktstr.host.engines import BootResult, ExitKind
from ktstr.host.verdict import Claim, GuestTestResult, Verdict


@pytest.fixture
def make_boot():
    def make(kind=ExitKind.POWEROFF, console=b"[ 1.0] reboot: Power down\n", detail="guest powered off"):
        return BootResult(kind, 3.0, console, b"", detail, "qemu-tcg")
    return make


@pytest.fixture
def passed():
    def make(name, **kw):
        return GuestTestResult(name=name, status=Verdict.PASS, **kw)
    return make


@pytest.fixture
def failed_claim():
    return Claim(label="cg_0.max_gap_ms", value="2500", bound="<= 2000")
