"""Scenario ops and structure in the VM: nested cgroups with their own cpusets (cpuset
delegated down the tree), tasks moved across the hierarchy, host workers, several work groups
in one cgroup, loop holds, backdrop ops, and payloads (a real program's output as metrics)."""

import functools
import glob
import os
import sys
import time

from ktstr import (Backdrop, CgroupDef, HoldSpec, Off, Op, Payload, Step, Claims, Work, WorkType, claim,
                   execute_steps, ktstr_test)

# A payload: the guest's Python measuring something and printing it, as benchmarks do.
_BENCH = ("import time\n"
          "t = time.monotonic(); n = 0\n"
          "while time.monotonic() - t < 0.3: n += 1\n"
          "print(f'loops: {n}'); print('Time: %.3f' % (time.monotonic() - t))")


@ktstr_test(llcs=2, cores=2, duration=2.0)
def nested_cgroups_with_cpusets(ctx):
    """cg_0/sub_a and cg_0/sub_b confined to one LLC each (isolation checked), cg_1/sub_a/deep
    free; then cg_1/sub_a/deep's tasks move to cg_1 and on to a fresh cg_2/sub."""
    llc0, llc1 = ctx.topo.cpus_in_llc(0), ctx.topo.cpus_in_llc(1)
    steps = [
        Step([CgroupDef("cg_0/sub_a").workers(1).cpuset(llc0), CgroupDef("cg_0/sub_b").workers(1).cpuset(llc1),
              CgroupDef("cg_1/sub_a/deep").workers(2)], HoldSpec.frac(0.5)),
        Step([Op.move_tasks("cg_1/sub_a/deep", "cg_1")], HoldSpec.frac(0.25)),
        Step([Op.move_tasks("cg_1", "cg_2/sub")], HoldSpec.frac(0.25)),
    ]
    result = execute_steps(ctx, steps)
    v = Claims()
    claim(v, result.stats["cg_0/sub_a.num_workers"]).equals(1)
    claim(v, result.stats["cg_2/sub.num_workers"]).equals(2)  # the moved workers' reports
    return v.into_result(result)


@ktstr_test(llcs=1, cores=2, duration=3.0,
            max_spread_pct=Off("a spinner and a bursty worker in one cgroup: shares differ by design"))
def host_workers_groups_and_loops(ctx):
    """SpawnHost beside a cgroup with two work groups (a spinner and a bursty worker: their
    off-CPU shares differ by design, hence no spread bound), and a loaded cgroup removed and
    created again every 0.3 s (HoldSpec.loop) next to them."""
    two_groups = CgroupDef("cg_0").workers(1).work(WorkType.SPIN_WAIT).with_work(Work(WorkType.BURSTY, 1))
    steps = [
        Step([two_groups, Op.spawn_host(Work(WorkType.SPIN_WAIT, 1))], HoldSpec.frac(0.3)),
        Step([CgroupDef("churn").workers(1), Op.remove_cgroup("churn"), Op.spawn(CgroupDef("churn").workers(1))],
             HoldSpec.loop(0.3, 0.7)),  # a replacement takes ~0.5 s under TCG: >= 2 in 2.1 s
    ]
    result = execute_steps(ctx, steps)
    v = Claims()
    claim(v, result.stats["cg_0.num_workers"]).equals(2)
    claim(v, result.stats["host.num_workers"]).equals(1)
    claim(v, result.stats["churn.num_workers"]).at_least(3)  # replaced by the loop
    return v.into_result(result)


# A long payload with a child of its own (busybox sh: up at once, unlike a Python), both pids
# in its output for the test to look up after KillPayload.
_LONG = ["/bin/sh", "-c", 'sleep 60 & echo "pid: $$ child: $!"; wait']


@ktstr_test(llcs=1, cores=2, duration=2.0)
def payloads_and_backdrop(ctx):
    """A payload in a cgroup, waited for, its metrics extracted and bounded; a long payload
    killed mid-scenario by KillPayload (it and its child gone, recorded as killed, killed at
    the op and not at the end); a backdrop cgroup, a backdrop op (spawning another) and a
    backdrop payload killed at the end; KillPayload of a payload never started fails."""
    v = Claims()
    try:
        execute_steps(ctx, [Step([Op.kill_payload("never_started")])])
        refused = ""
    except KeyError as exc:  # raised out of the test body, this is the test's FAIL
        refused = str(exc)
    claim(v, "kill_payload: no payload 'never_started' was started" in refused).equals(True)

    bench = Payload("bench", [sys.executable, "-c", _BENCH],
                    metrics={"loops": r"^loops: (\d+)", "time_s": r"^Time: ([\d.]+)"},
                    bounds={"loops": (1, None), "time_s": (0.25, 5.0)})
    long_run = Payload("long", _LONG, metrics={"pid": r"^pid: (\d+)", "child": r"child: (\d+)"},
                   bounds={"pid": (2, None), "child": (2, None)})
    sleeper = Payload("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    backdrop = Backdrop(CgroupDef("bg").workers(1), ops=[Op.spawn(CgroupDef("bg_op").workers(1))],
                        payloads=[sleeper])
    steps = [Step([CgroupDef("cg_0").workers(1), Op.run_payload(bench, "bench_cg"), Op.run_payload(long_run, "cg_0")],
                  HoldSpec.frac(0.4)),
             Step([Op.kill_payload("long"), Op.wait_payload("bench")], HoldSpec.frac(0.6))]
    result = execute_steps(ctx, steps, backdrop)
    s = result.stats
    claim(v, s["payload.bench.exit_code"]).equals(0.0)
    claim(v, s["payload.bench.killed"]).equals(0.0)
    claim(v, s["payload.long.killed"]).equals(1.0)
    claim(v, s["payload.long.exit_code"]).equals(-9.0)
    # Killed at 0.8 s by the op, not at the scenario's end (2.0 s).
    claim(v, s["payload.long.wall_s"]).at_most(1.5)
    claim(v, _alive(int(s["payload.long.pid"]))).equals(False)
    claim(v, _alive(int(s["payload.long.child"]))).equals(False)  # the kill reached its session
    claim(v, s["payload.sleeper.exit_code"]).equals(-9.0)  # killed with the scenario
    claim(v, s["payload.sleeper.killed"]).equals(1.0)
    claim(v, s["bg_op.num_workers"]).equals(1)
    return v.into_result(result)


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (an orphan waits for PID 1 to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _observe(tag, stop, report):
    """A Custom worker that sleeps, then writes the nice and policy it ends with."""
    while not stop():
        time.sleep(0.02)
        report.iterations += 1
    with open(f"/tmp/ktstr-observed-{tag}-{os.getpid()}", "w") as f:
        f.write(f"{os.getpriority(os.PRIO_PROCESS, 0)} {os.sched_getscheduler(0)}")


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


@ktstr_test(llcs=1, cores=2, duration=1.0)
def nice_and_policy_ops(ctx):
    """SetNice and SetPolicy reach every task of their cgroup and no other: the workers
    themselves report what they end with."""
    for old in glob.glob("/tmp/ktstr-observed-*"):
        os.unlink(old)
    changed, control = (functools.partial(_observe, tag) for tag in ("changed", "control"))
    steps = [Step([CgroupDef("changed").workers(2).work(WorkType.CUSTOM, custom=changed),
                   CgroupDef("control").workers(1).work(WorkType.CUSTOM, custom=control)],
                  HoldSpec.frac(0.4)),
             Step([Op.set_nice("changed", 5), Op.set_policy("changed", os.SCHED_BATCH)], HoldSpec.frac(0.6))]
    result = execute_steps(ctx, steps)
    seen = {tag: sorted(_read(p) for p in glob.glob(f"/tmp/ktstr-observed-{tag}-*")) for tag in ("changed", "control")}
    v = Claims()
    claim(v, seen["changed"]).equals([f"5 {os.SCHED_BATCH}"] * 2)
    claim(v, seen["control"]).equals([f"0 {os.SCHED_OTHER}"])
    return v.into_result(result)


@ktstr_test(llcs=1, cores=2, duration=1.0)
def payload_bound_fails(ctx):
    """A payload whose metric misses its bound fails the test, naming metric, value, bound."""
    bench = Payload("bench", [sys.executable, "-c", _BENCH], metrics={"loops": r"^loops: (\d+)"},
                    bounds={"loops": (1e15, None)})
    return execute_steps(ctx, [Step([Op.run_payload(bench), Op.wait_payload("bench")])])
