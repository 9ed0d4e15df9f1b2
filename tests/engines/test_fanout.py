"""Snapshot fan-out (ktstr.host.snapshot) gives the verdicts a fresh boot gives (QEMU TCG,
//kernels:default, //initramfs:base): the same scenarios run from a fresh boot and from
clones of one snapshot pass and fail alike; a WARNING planted in one clone fails that
clone's test only; each clone's stream is signed under its own key and numbered from 0
(no protocol error), and its console begins at the restore (no firmware banner in it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ktstr.host import runner
from ktstr.host.discovery import list_tests, select
from ktstr.host.engines.qemu import QemuEngine
from ktstr.host.jobs import Scenarios
from ktstr.host.request import RunRequest
from ktstr.host.snapshot import Fanout
from ktstr.wire.status import Status
from tests.vm_inputs import default_kernel_file

HERE = Path(__file__).resolve().parent
KERNEL = default_kernel_file()
INITRAMFS = sorted(Path("initramfs").glob("base*.cpio*"))
WARNING = "WARNING: CPU: 0 PID: 1 at tests/engines/fanout_guests.py:1 plants_a_warning"

needs_vm = pytest.mark.skipif(KERNEL is None or not INITRAMFS,
                              reason="no kernel/initramfs in runfiles: run under Bazel "
                                     "(data //kernels:default, //initramfs:base)")


def _run(engine, name: str, out: Path):
    tests = select(list_tests(HERE / "fanout_guests.py"), name)
    req = RunRequest(suite=f"fanout_{name}", kernel=KERNEL, initrds=INITRAMFS, payload=Scenarios(tests),
                     timeout_s=90.0, out_dir=out / "out", work_dir=out / "work")
    report = runner.run(req, engine, hook=None)
    (outcome,) = report.outcomes
    (boot,) = report.boots
    return outcome, boot, (req.out_dir / boot.console_log).read_text(errors="replace")


@needs_vm
def test_a_clone_judges_as_a_fresh_boot_and_a_planted_warning_fails_only_its_clone(tmp_path):
    qemu = QemuEngine("tcg")
    fanout = Fanout(qemu, tmp_path / "snapshots")
    fresh, clone = {}, {}
    # The WARNING's clone first: the clone after it starts from the same clean snapshot.
    for name in ("plants_a_warning", "fair_share"):
        fresh[name] = _run(qemu, name, tmp_path / f"fresh_{name}")
        clone[name] = _run(fanout, name, tmp_path / f"clone_{name}")
    assert fanout.restores == 2 and len(fanout.snapshots) == 1  # one template, two clones

    for name, (outcome, boot, console) in clone.items():
        assert outcome.verdict == fresh[name][0].verdict, (name, outcome.reason, fresh[name][0].reason)
        assert boot.detail.startswith("restored from snapshot"), boot.detail
        assert boot.exit_kind == "poweroff" and boot.protocol_errors == [] and boot.stream_errors == []
        assert "SeaBIOS" not in console and "SeaBIOS" in fresh[name][2]  # the firmware: boots only
    assert clone["fair_share"][0].verdict == Status.PASS, clone["fair_share"][0].reason
    warned = clone["plants_a_warning"][0]
    assert warned.verdict == Status.FAIL and WARNING in warned.reason, warned.reason
    assert [f.kind for f in warned.findings] == ["splat"]
    assert WARNING not in clone["fair_share"][2]
