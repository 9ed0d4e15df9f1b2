"""The sampler thread on synthetic guest RAM that changes under it, the live stall checks,
the after-the-run windows, the report and the picture."""

from __future__ import annotations

import json
import os
import time

import pytest

from ktstr.monitor.boot import BootMonitor, ConsoleMarks
from ktstr.monitor.thresholds import (LiveChecks, MonitorConfigError, MonitorThresholds,
                                  judge_windows)
from ktstr.monitor.memory import GuestMemory, KernelMemory
from ktstr.monitor.plot import timeline_png
from ktstr.monitor.sampler import CpuSample, RunQueueReader, Sample
from tests.monitor.synthetic import SyntheticGuest, fake_layout


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    return fake_layout(tmp_path_factory.mktemp("fake"))


def _reader(g, layout):
    k = KernelMemory(GuestMemory.pc_layout([g.ram]), layout)
    k.attach()
    r = RunQueueReader(k, g.nr_cpus)
    assert r.ready()
    return r


def test_one_sample_reads_what_the_guest_holds(layout):
    g = SyntheticGuest(layout)
    spin = g.new_task(42, "spinner")
    waiter = g.new_task(77, "kworker/1:0")
    g.set_scx_state("ENABLED")
    g.set_jiffies(5000)
    g.set_cpu(1, nr_running=3, clock=7 * 10**9, curr=spin, scx_nr=3, local_dsq=2)
    g.make_waiting(1, waiter, runnable_at=2500)
    s = _reader(g, layout).sample(1.0, "t1")
    assert s.scx_state == "ENABLED" and s.jiffies == 5000
    c0, c1 = s.cpus
    assert c0.idle and c0.curr_comm == "swapper/0" and c0.oldest_wait_ms is None
    assert (c1.nr_running, c1.scx_nr_running, c1.local_dsq, c1.curr_pid, c1.curr_comm, c1.idle) == \
        (3, 3, 2, 42, "spinner", False)
    assert c1.rq_clock == 7 * 10**9
    assert c1.oldest_wait_ms == 2500.0 and (c1.oldest_pid, c1.oldest_comm) == (77, "kworker/1:0")
    assert "oldest runnable kworker/1:0[77] waiting 2.50 s" in c1.brief()


def _sample(t, jiffies, cpus, test="t", state="ENABLED"):
    return Sample(t, jiffies, state, test, cpus)


def _cpu(cpu, nr=1, clock=0, idle=False, wait=None, dsq=0, comm="w"):
    return CpuSample(cpu, nr, clock, 10 + cpu, comm, idle, nr, dsq, wait, 99 if wait else None,
                     "victim" if wait else None)


def test_runnable_wait_past_the_limit_stops_after_sustained_samples():
    th = MonitorThresholds(max_runnable_wait_s=2.0, sustained_samples=3)
    live = LiveChecks(lambda test: th, hz=1000)
    reasons = []
    for i in range(6):
        wait = 1000.0 + 600 * i  # crosses 2 s at i=2
        reasons.append(live(_sample(i * 0.1, 1000 + i * 100,
                                    [_cpu(0, clock=i * 10**8), _cpu(1, clock=i * 10**8, wait=wait)])))
    assert reasons[:4] == ["", "", "", ""]  # over the limit at i=2,3: streak 2 < 3
    assert reasons[4].startswith("host monitor: runnable task stall: victim[99] runnable on cpu1")
    assert live.failure is not None and live.failure.check == "fail_on_stall"
    assert len(live.failure.samples) == 3 and "per-CPU state: cpu0: running w[10]" in live.failure.message


def test_waits_do_not_count_while_sched_ext_is_not_enabled():
    th = MonitorThresholds(max_runnable_wait_s=1.0, sustained_samples=1)
    live = LiveChecks(lambda test: th, hz=1000)
    s = _sample(0, 100, [_cpu(0, wait=9000.0)], state="DISABLING")
    assert live(s) == ""


def test_a_busy_cpu_whose_clock_stops_is_a_stall_but_an_idle_one_is_not():
    th = MonitorThresholds(max_runnable_wait_s=1.0, sustained_samples=2)
    live = LiveChecks(lambda test: th, hz=100)
    out = []
    for i in range(8):
        jiffies = 100 + 50 * i  # guest time: 0.5 s per sample
        out.append(live(_sample(i, jiffies, [_cpu(0, clock=5, nr=2),  # stuck, busy
                                             _cpu(1, clock=5, nr=0, idle=True)])))  # idle: exempt
    stops = [r for r in out if r]
    assert stops and stops[0].startswith("host monitor: rq clock of cpu0 stopped for")
    live2 = LiveChecks(lambda test: th, hz=100)
    assert not any(live2(_sample(i, 100 + 50 * i, [_cpu(1, clock=5, nr=0, idle=True)])) for i in range(8))


def test_frozen_guest_time_is_reported_after_host_seconds():
    th = MonitorThresholds(frozen_after_s=2.0)
    live = LiveChecks(lambda test: th, hz=1000)
    out = [live(_sample(t, 777, [_cpu(0, clock=1, idle=True, nr=0)])) for t in (0.0, 1.0, 2.5)]
    assert out[:2] == ["", ""] and out[2].startswith("host monitor: guest time stopped")


def test_fail_on_stall_false_never_stops():
    th = MonitorThresholds(fail_on_stall=False, sustained_samples=1, max_runnable_wait_s=0.1)
    live = LiveChecks(lambda test: th, hz=1000)
    assert live(_sample(0, 1, [_cpu(0, wait=5000.0)])) == ""


def test_windows_judge_each_test_with_its_own_thresholds():
    strict = MonitorThresholds(max_imbalance_ratio=2.0, sustained_samples=2)
    loose = MonitorThresholds(max_imbalance_ratio=100.0, max_local_dsq_depth=3, sustained_samples=2)
    samples = []
    for i in range(3):
        samples.append(_sample(i, i, [_cpu(0, nr=6), _cpu(1, nr=1)], test="a"))
    for i in range(3, 6):
        samples.append(_sample(i, i, [_cpu(0, nr=6, dsq=5), _cpu(1, nr=1)], test="b"))
    fails = judge_windows(samples, lambda t: strict if t == "a" else loose)
    assert [(f.test, f.check) for f in fails] == [("a", "max_imbalance_ratio"), ("b", "max_local_dsq_depth")]
    assert "run-queue imbalance 6.0 > 2" in fails[0].message and len(fails[0].samples) == 2
    # One sample over is not sustained.
    assert judge_windows(samples[:1] + [_sample(9, 9, [_cpu(0), _cpu(1)], test="a")],
                         lambda t: strict) == []


def test_threshold_overrides_from_decorator_and_bazel_strings():
    base = MonitorThresholds()
    assert base.max_imbalance_ratio == 4.0 and base.max_local_dsq_depth == 50
    assert base.fail_on_stall and base.sustained_samples == 5
    t = base.merged({"fail_on_stall": "false", "max_imbalance_ratio": "8"}, "BUILD attr")
    assert not t.fail_on_stall and t.max_imbalance_ratio == 8.0
    assert base.merged({"sustained_samples": 2}, "decorator").sustained_samples == 2
    with pytest.raises(MonitorConfigError, match="decorator of t1: unknown monitor option 'max_imbalance'"):
        base.merged({"max_imbalance": 3}, "decorator of t1")
    with pytest.raises(MonitorConfigError, match="max_local_dsq_depth='deep' is not a int"):
        base.merged({"max_local_dsq_depth": "deep"}, "x")


def test_sampler_thread_follows_a_changing_guest_and_stops_it(layout, tmp_path):
    """The real thread against RAM in a memfd (as an engine shares it): it attaches, sees a
    task starve, asks to stop the VM once, and ends cleanly when told the VM is gone."""
    g = SyntheticGuest(layout)
    th = MonitorThresholds(max_runnable_wait_s=0.5, sustained_samples=2)
    mon = BootMonitor(layout, 2, lambda t: th, emulated=True, hz=50.0)
    mon.marks.feed(b"[    1.0] boot\n")
    (fd,) = mon.ram_fds([len(g.ram)])
    os.pwrite(fd, bytes(g.ram), 0)
    stops = []
    mon.vm_started(stops.append)
    mon.marks.feed(b"[    2.0] ktstr: test starve begins\n")
    victim = g.new_task(5, "victim")
    g.set_scx_state("ENABLED")
    g.make_waiting(0, victim, runnable_at=1000)
    deadline = time.monotonic() + 10
    j = 1000
    while not stops and time.monotonic() < deadline:
        j += 100
        g.set_jiffies(j)
        os.pwrite(fd, bytes(g.ram[:24 << 20]), 0)
        time.sleep(0.02)
    mon.vm_stopped()
    assert stops and stops[0].startswith("host monitor: runnable task stall: victim[5] runnable on cpu0")
    rep = mon.report(["starve"])
    assert rep.status == "sampled" and rep.stopped_vm == stops[0]
    assert rep.failures[0].test == "starve" and rep.marks and rep.marks[0][1] == "starve"
    assert len(stops) == 1
    data = json.loads(json.dumps(rep.to_json()))
    assert data["schema"] == 1 and data["samples"][0]["cpus"][0]["curr_comm"] == "swapper/0"
    png = tmp_path / "timeline.png"
    assert timeline_png(rep.samples, png, "starve", rep.marks, (rep.samples[-1].t, "stop")) is None
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_layout_of_another_kernel_is_a_stated_not_attached(layout, tmp_path):
    g = SyntheticGuest(layout)
    g.put_image(layout.symbols["linux_banner"], b"Linux version 9.9.9-else\n\0")
    mon = BootMonitor(layout, 2, lambda t: MonitorThresholds(), emulated=True, hz=50.0)
    (fd,) = mon.ram_fds([len(g.ram)])
    os.pwrite(fd, bytes(g.ram), 0)
    mon.vm_started(lambda r: None)
    time.sleep(0.5)  # two attempts: the same other banner twice is another kernel
    mon.vm_stopped()
    rep = mon.report(["t"])
    assert rep.status == "not_attached" and "9.9.9-else" in rep.reason
    assert rep.summary().startswith("host monitor not_attached: the booted kernel does not match")


def test_console_marks_read_as_fed():
    now = [1.0]
    m = ConsoleMarks(lambda: now[0])
    m.feed(b"[ 1.0] ktstr: test one begins\n[ 2.0] ktstr: test tw")
    assert m.current == "one"
    now[0] = 2.0
    m.feed(b"o begins\n")
    assert m.current == "two" and m.marks == [(1.0, "one"), (2.0, "two")]


def test_console_events_time_the_schedulers_attach_and_ejection():
    now = [4.0]
    m = ConsoleMarks(lambda: now[0])
    m.feed(b'[ 3.1] sched_ext: BPF scheduler "flatcg" enabled\n')
    now[0] = 35.5
    m.feed(b'[ 33.2] sched_ext: BPF scheduler "flatcg" disabled (runnable task stall)\n')
    assert [(t, k) for t, k, _ in m.events] == [(4.0, "scx_enabled"), (35.5, "scx_disabled")]


def test_console_marks_hold_a_bounded_line_of_32_mib_without_a_newline():
    """Issue 22: the marks scanner kept every byte of an unended line and copied it again at
    every sample. Now it holds at most MAX_LINE_BYTES of it, and the next mark still counts."""
    from ktstr.wire.bounds import MAX_LINE_BYTES

    m = ConsoleMarks()
    chunk = b"y" * 65536
    start = time.monotonic()
    for _ in range(512):  # 32 MiB, as the follower reads it
        m.feed(chunk)
        assert m._lines.pending <= MAX_LINE_BYTES
    m.feed(b"\n[ 9.0] ktstr: test after begins\n")
    assert m.current == "after"
    assert time.monotonic() - start < 5.0


def test_not_ready_while_per_cpu_offsets_point_at_the_images_template(layout):
    import struct as st
    from tests.monitor.synthetic import IMAGE_VA
    g = SyntheticGuest(layout)
    k = KernelMemory(GuestMemory.pc_layout([g.ram]), layout)
    k.attach()
    real = k.per_cpu_offsets(2)
    for cpu in range(2):  # early boot: BOOT_PERCPU_OFFSET, the template in the kernel image
        g.put_image(layout.symbols["__per_cpu_offset"] + 8 * cpu, st.pack("<Q", IMAGE_VA + 0x80000))
    r = RunQueueReader(k, 2)
    assert not r.ready()
    for cpu in range(2):
        g.put_image(layout.symbols["__per_cpu_offset"] + 8 * cpu, st.pack("<Q", real[cpu]))
    assert r.ready()


def test_scx_state_changes_time_the_attach_and_the_ejection():
    from ktstr.monitor.boot import MonitorReport
    samples = [_sample(t, 1, [], state=st) for t, st in
               ((0.1, "DISABLED"), (0.2, "DISABLED"), (0.3, "ENABLING"), (0.4, "ENABLED"), (0.5, "ENABLED"),
                (9.0, "DISABLING"), (9.1, "DISABLED"))]
    rep = MonitorReport("sampled", samples=samples)
    assert rep.scx_state_changes() == [(0.1, "DISABLED"), (0.3, "ENABLING"), (0.4, "ENABLED"),
                                       (9.0, "DISABLING"), (9.1, "DISABLED")]
    assert rep.to_json()["scx_state_changes"][2] == {"t": 0.4, "state": "ENABLED"}


def test_the_sampler_reads_the_running_tasks_allowed_cpus(layout):
    g = SyntheticGuest(layout, nr_cpus=2)
    g.set_cpu(0, nr_running=6, clock=1, curr=g.new_task(5, "pinned", allowed=0b01))
    g.set_cpu(1, nr_running=1, clock=1, curr=g.new_task(6, "free"))
    c0, c1 = _reader(g, layout).sample(1.0, "t").cpus
    assert (c0.allowed, c1.allowed) == (0b01, 0b11)


def test_imbalance_is_judged_within_the_cpus_a_task_may_use():
    """Six workers in a one-CPU cpuset next to idle CPUs are the cpuset's doing, not an
    imbalance; the same six free to run anywhere are; a pile in a two-CPU cpuset is judged
    against that cpuset's other CPU only."""
    th = MonitorThresholds(max_imbalance_ratio=4.0, sustained_samples=2)

    def cpus(allowed0, nr=(6, 0, 0, 1), allowed3=None):
        out = [_cpu(i, nr=n) for i, n in enumerate(nr)]
        out[0].allowed, out[3].allowed = allowed0, allowed3
        return out

    def judge(**kw):
        return judge_windows([_sample(i, i, cpus(**kw)) for i in range(3)], lambda t: th)

    assert judge(allowed0=0b0001) == []  # confined to its cpuset {0}
    [free] = judge(allowed0=0b1111)
    assert "run-queue imbalance 6.0 > 4 (nr_running per CPU [6, 0, 0, 1])" in free.message
    [unknown] = judge(allowed0=None)  # a kernel without cpus_ptr: every CPU, as before
    assert "run-queue imbalance 6.0 > 4" in unknown.message
    # cpuset {0, 3}: 6 against 1 is 6.0, whatever CPUs 1 and 2 hold.
    [pair] = judge(allowed0=0b1001, nr=(6, 0, 0, 1))
    assert "cpu0's running task may use cpus 0,3" in pair.message
    assert judge(allowed0=0b1001, nr=(4, 0, 0, 1)) == []
