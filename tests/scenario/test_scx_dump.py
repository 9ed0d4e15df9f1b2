"""The guest's reading of the sched_ext_dump trace event (ktstr.guest.scx_dump)."""

from ktstr.guest.scx_dump import MAX_DUMP_BYTES, extract

TRACE = """\
# tracer: nop
#
#                                _-----=> irqs-off/BH-disabled
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
     kworker/u8:1-27      [000] d.h1.     5.001: sched_ext_dump: kworker/u8:1[27] triggered exit kind 1026:
     kworker/u8:1-27      [000] d.h1.     5.001: sched_ext_dump:   runnable task stall (rcu_sched[16] failed to run for 0.584s)
     kworker/u8:1-27      [000] d.h1.     5.001: sched_ext_dump: 
     kworker/u8:1-27      [000] d.h1.     5.002: sched_ext_dump: CPU 0   : nr_run=3 flags=0x1 cpu_rel=0 pnt_seq=23
"""


def test_dump_lines_lose_their_trace_prefix_and_keep_their_indentation():
    assert extract(TRACE).splitlines() == [
        "kworker/u8:1[27] triggered exit kind 1026:",
        "  runnable task stall (rcu_sched[16] failed to run for 0.584s)",
        "",
        "CPU 0   : nr_run=3 flags=0x1 cpu_rel=0 pnt_seq=23",
    ]


def test_no_dump_is_empty_and_a_huge_one_is_bounded():
    assert extract("# tracer: nop\n") == ""
    line = "  x-1 [000] d.h1. 1.0: sched_ext_dump: " + "y" * 1000 + "\n"
    assert len(extract(line * 200)) == MAX_DUMP_BYTES
