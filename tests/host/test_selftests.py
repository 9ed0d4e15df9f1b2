from ktstr.host.engines import BootResult, ExitKind
from ktstr.host.selftests import evaluate_selftests

from ktstr.wire.status import Status

RUN = b"""ktstr: running /ktstr/bin/runner
===== START =====
TEST: create_dsq
DESCRIPTION: Create and destroy a dsq in a loop
OUTPUT:
ok 1 create_dsq # 
=====  END  =====
===== START =====
TEST: ddsp_bogus_dsq_fail
DESCRIPTION: Verify we gracefully fail
OUTPUT:
[    3.220999] sched_ext: BPF scheduler "ddsp_bogus_dsq_fail" disabled (runtime error)
[    3.221309] sched_ext: ddsp_bogus_dsq_fail: non-existent DSQ 0xcafef00d for runner[43]
ok 2 ddsp_bogus_dsq_fail # 
=====  END  =====
===== START =====
TEST: hotplug
DESCRIPTION: hotplug
OUTPUT:
ok 3 hotplug # SKIP 
=====  END  =====
===== START =====
TEST: maximal
DESCRIPTION: everything
OUTPUT:
ERR: maximal.c:30
not ok 4 maximal # 
=====  END  =====
===== START =====
TEST: reload_loop
DESCRIPTION: reload
OUTPUT:
[   9.0] WARNING: CPU: 1 PID: 50 at kernel/sched/ext.c:100 scx_foo+0x1/0x2
ok 5 reload_loop # 
=====  END  =====


=============================

RESULTS:

PASSED:  3
SKIPPED: 1
FAILED:  1
[   44.207118] reboot: Power down
"""


def _boot(console, kind=ExitKind.POWEROFF, reason="guest powered off"):
    return BootResult(kind, 40.0, console, b"", reason, "qemu-tcg", reason)


def test_each_selftest_is_a_case_with_its_status():
    outcomes = {o.name: o for o in evaluate_selftests(_boot(RUN))}
    assert list(outcomes) == ["create_dsq", "ddsp_bogus_dsq_fail", "hotplug", "maximal", "reload_loop"]
    assert outcomes["create_dsq"].verdict == Status.PASS
    # an expected scheduler error inside a selftest is the selftest's business
    assert outcomes["ddsp_bogus_dsq_fail"].verdict == Status.PASS
    assert outcomes["hotplug"].verdict == Status.SKIP
    assert outcomes["maximal"].verdict == Status.FAIL
    assert "ERR: maximal.c:30" in outcomes["maximal"].scheduler_output
    # a kernel WARNING during a selftest fails it even though the runner said ok
    assert outcomes["reload_loop"].verdict == Status.FAIL
    assert outcomes["reload_loop"].reason.startswith("kernel WARNING during the selftest")


def test_hang_inside_a_selftest_names_it():
    cut = RUN[: RUN.index(b"ok 3 hotplug")]
    outcomes = evaluate_selftests(_boot(cut, ExitKind.TIMEOUT, "killed after timeout of 240 s"))
    assert [o.verdict for o in outcomes] == [Status.PASS, Status.PASS, Status.FAIL]
    assert outcomes[-1].name == "hotplug"
    assert outcomes[-1].reason == "selftest never finished: the guest hung inside it (killed after timeout of 240 s)"


def test_no_output_at_all_is_a_failure():
    [o] = evaluate_selftests(_boot(b"[ 1.0] Kernel panic - not syncing: x\n", ExitKind.CRASH, "kernel panic: x"))
    assert o.name == "runner" and o.verdict == Status.FAIL and "kernel panic" in o.reason
