"""Real benchmark programs inside scenarios (//initramfs:payloads): hackbench and cyclictest
(rt-tests), stress-ng and ktstr's schbench run beside ktstr workers; their metrics are
extracted and bounded."""

from ktstr import CgroupDef, HoldSpec, Op, Step, Claims, claim, execute_steps, ktstr_test, payloads


# hackbench forks its 40 tasks at once on one CPU; under TCG the balancer needs more than the
# host monitor's 0.5 s to spread them, so imbalance must last 2 s to count here.
@ktstr_test(llcs=1, cores=2, duration=2.0, monitor={"sustained_samples": 20})
def benchmarks_beside_workers(ctx):
    steps = [
        Step([CgroupDef("cg_0").workers(2),
              Op.run_payload(payloads.hackbench(groups=1, loops=20, bounds={"time_s": (0.0, 60.0)}), "bench"),
              Op.run_payload(payloads.cyclictest(seconds=1, bounds={"max_us": (1, None), "loops": (10, None)}),
                             "rt"),
              Op.run_payload(payloads.stress_ng("cpu", 1, 1, bounds={"bogo_ops": (1, None)}), "stress"),
              Op.run_payload(payloads.schbench(1, 2, 1, bounds={"rps": (1, None), "p99_us": (0, 10_000_000)}),
                             "sch")],
             HoldSpec.frac(0.5)),
        Step([Op.wait_payload("hackbench"), Op.wait_payload("cyclictest"), Op.wait_payload("stress_ng_cpu"),
              Op.wait_payload("schbench")],
             HoldSpec.frac(0.5)),
    ]
    result = execute_steps(ctx, steps)
    v = Claims()
    claim(v, result.stats["payload.hackbench.time_s"]).at_least(0.0)
    claim(v, result.stats["payload.cyclictest.avg_us"]).at_least(1.0)
    claim(v, result.stats["payload.stress_ng_cpu.bogo_ops_per_s"]).at_least(0.0)
    claim(v, result.stats["payload.schbench.p50_us"]).at_most(result.stats["payload.schbench.p99_us"])
    return v.into_result(result)
