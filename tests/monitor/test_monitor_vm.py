"""The host monitor on a real guest (QEMU, //kernels:default): its per-CPU view must agree
with the guest's own (/sys/kernel/debug/sched/debug) within sampling error, and its outputs
(monitor.json, timeline.png, the summary in result.json) must be there."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from ktstr.host import runner
from ktstr.host.discovery import list_tests
from ktstr.host.engines import EngineOptions
from ktstr.host.jobs import Scenarios
from ktstr.host.request import RunRequest
from ktstr.monitor.hook import MonitorHook
from ktstr.wire.status import Status
from tests.vm_inputs import default_kernel_file

HERE = Path(__file__).resolve().parent
KERNEL = default_kernel_file()
LAYOUT = default_kernel_file("layout.json")
INITRAMFS = sorted(Path("initramfs").glob("base*.cpio*"))

needs_vm = pytest.mark.skipif(KERNEL is None or LAYOUT is None or not INITRAMFS,
                              reason="no kernel/layout/initramfs in runfiles: run under Bazel "
                                     "(data //kernels:default, //initramfs:base)")


@needs_vm
def test_monitor_agrees_with_the_guests_own_view(tmp_path):
    req = RunRequest(
        suite="monitor_agreement", kernel=KERNEL, initrds=INITRAMFS,
        payload=Scenarios(list_tests(HERE / "vm_agreement.py")), engine=EngineOptions("qemu-tcg"), timeout_s=120.0,
        out_dir=tmp_path / "out", work_dir=tmp_path / "work", kernel_layout=LAYOUT)
    report = runner.run(req, hook=MonitorHook())
    (outcome,) = report.outcomes
    assert outcome.verdict == Status.PASS, (outcome.reason, outcome.details)
    mon = json.loads((tmp_path / "out" / "monitor.json").read_text())
    assert mon["status"] == "sampled", mon["reason"]
    assert (tmp_path / "out" / "timeline.png").read_bytes()[:4] == b"\x89PNG"
    assert report.to_json()["boots"][0]["monitor"].startswith("host monitor: ")
    window = [s for s in mon["samples"] if s["test"] == "monitor_agreement"]
    # The last 80% of the window: the spinners are forked and pinned by then.
    window = window[len(window) // 5:]
    assert len(window) >= 10, f"only {len(window)} samples in the test window"
    st = outcome.stats
    spinners1 = {int(st[f"spinner_pid_cpu1_{i}"]) for i in range(3)}
    host_nr1 = statistics.median(s["cpus"][1]["nr_running"] for s in window)
    host_nr0 = statistics.median(s["cpus"][0]["nr_running"] for s in window)
    # CPU 1 holds exactly the three spinners on both views.
    assert host_nr1 == st["guest_nr_running_cpu1"] == 3
    # CPU 0: the spinner, plus the guest's reader while it reads (the host sees it asleep).
    assert abs(host_nr0 - st["guest_nr_running_cpu0"]) <= 1
    on_cpu1 = sum(s["cpus"][1]["curr_pid"] in spinners1 for s in window) / len(window)
    assert on_cpu1 >= 0.8 and st["guest_curr_is_spinner_cpu1"] >= 0.8
    comms = {s["cpus"][1]["curr_comm"] for s in window if s["cpus"][1]["curr_pid"] in spinners1}
    assert comms and all(c for c in comms)
    # The spinners are pinned to CPU 1: the host reads that from their cpus_ptr (the
    # imbalance check's cpuset groups).
    assert {s["cpus"][1]["allowed"] for s in window if s["cpus"][1]["curr_pid"] in spinners1} == {0b10}
    # rq clocks advance on both CPUs (ns, guest time).
    for cpu in (0, 1):
        assert window[-1]["cpus"][cpu]["rq_clock"] > window[0]["cpus"][cpu]["rq_clock"]
