"""sched_ext's "disabled" line parsed once, for console lines (host) and /dev/kmsg text
(guest), into one text."""

from ktstr.guest.kmsg import sched_ext_exit
from ktstr.wire.marks import TEST_MARK, TEST_MARK_RE, find_scx_exits, last_scx_exit

CONSOLE = [
    "[    2.000000] sched_ext: BPF scheduler \"simple\" enabled",
    "[    9.100000] sched_ext: BPF scheduler \"simple\" disabled (runnable task stall)",
    "[    9.100100] sched_ext: simple: kworker/0:1[12] failed to run for 5.012s",
    "[    9.100200]  scx_watchdog_workfn+0x150/0x1e0",
]


def test_console_and_kmsg_give_the_same_text():
    [ex] = find_scx_exits(CONSOLE)
    assert (ex.scheduler, ex.reason, ex.is_error) == ("simple", "runnable task stall", True)
    text = 'BPF scheduler "simple" disabled (runnable task stall): kworker/0:1[12] failed to run for 5.012s'
    assert ex.text() == text
    kmsg = [line.split("] ", 1)[1] for line in CONSOLE]  # /dev/kmsg text has no timestamp
    assert sched_ext_exit(kmsg) == text


def test_message_of_another_scheduler_is_not_taken():
    lines = ['sched_ext: BPF scheduler "a" disabled (scx_bpf_error)', "sched_ext: b: unrelated"]
    assert last_scx_exit(lines).text() == 'BPF scheduler "a" disabled (scx_bpf_error)'


def test_normal_unload_is_not_an_error_and_last_wins():
    lines = ['sched_ext: BPF scheduler "a" disabled (runtime error)',
             'sched_ext: BPF scheduler "a" disabled (unregistered from user space)']
    assert [e.is_error for e in find_scx_exits(lines)] == [True, False]
    assert last_scx_exit(lines).reason == "unregistered from user space"
    assert last_scx_exit([]) is None and sched_ext_exit([]) == ""


def test_test_mark_regex_reads_the_format():
    line = "<4>[    3.5] " + TEST_MARK.format(name="two_cgroup_fairness")
    assert TEST_MARK_RE.search(line).group("name") == "two_cgroup_fairness"
