"""A known failure plus an unrelated BUG in one real run (QEMU, //kernels:default): the
known finding is covered and reported as known, the BUG is not, so the test FAILs and its
reason is the BUG. Before per-finding expectations, the known text anywhere in the evidence
passed the whole run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ktstr.host import runner
from ktstr.host.discovery import list_tests, select
from ktstr.host.expectations import may_fail
from ktstr.host.jobs import Scenarios
from ktstr.host.request import RunRequest
from ktstr.wire.status import Status
from tests.vm_inputs import default_kernel_file

HERE = Path(__file__).resolve().parent
KERNEL = default_kernel_file()
INITRAMFS = sorted(Path("initramfs").glob("base*.cpio*"))

needs_vm = pytest.mark.skipif(KERNEL is None or not INITRAMFS,
                              reason="no kernel/initramfs in runfiles: run under Bazel "
                                     "(data //kernels:default, //initramfs:base)")

KNOWN = "known stall: worker 0 not scheduled"
BUG = "BUG: kernel NULL pointer dereference, address: 0000000000000000 (tests/integrity/guests.py:3)"


@needs_vm
def test_a_known_failure_does_not_cover_an_unrelated_bug(tmp_path):
    tests = select(list_tests(HERE / "guests.py"), "known_failure_and_an_unrelated_bug")
    req = RunRequest(suite="known_and_unrelated", kernel=KERNEL, initrds=INITRAMFS,
                     payload=Scenarios(tests), timeout_s=60.0, expectations=tuple(may_fail([KNOWN])),
                     out_dir=tmp_path / "out", work_dir=tmp_path / "work")
    (outcome,) = runner.run(req, hook=None).outcomes  # no kernel layout: no monitor to hand in
    assert outcome.verdict == Status.FAIL, outcome.reason
    assert BUG in outcome.reason and KNOWN not in outcome.reason, outcome.reason
    by_text = {f.text: f for f in outcome.findings}
    [known] = [f for t, f in by_text.items() if KNOWN in t]
    [bug] = [f for t, f in by_text.items() if BUG in t]
    assert known.known == f"known intermittent {KNOWN!r}" and not bug.known
    assert bug.kind == "splat"
