/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_slow: a test fixture, a correct scheduler made slower on purpose, for `ktstr compare`'s
 * regression check (//tests/compare). A global FIFO like scx_simple, but every slice is
 * 250 us (so a spinner is preempted at every tick, where the default slice lets it run 20 ms)
 * and every ops.dispatch() burns 2 ms of CPU in a bpf_loop before it consumes: the CPU time it
 * burns is taken from the tasks, so throughput drops and gaps and wake latencies grow. It never
 * stalls: the burn is bounded and every dispatch still consumes a task.
 */
#include "ktstr_sched.bpf.h"

#define SHARED_DSQ 0
#define SLOW_SLICE_NS (250 * 1000ULL)
#define BURN_NS (2000 * 1000ULL)
#define BURN_MAX_LOOPS (1 << 20)

enum { CNT_DISPATCHED, CNT_BURN_LOOPS, NR_CNT };

KTSTR_SCHED_PREAMBLE(NR_CNT);

struct burn_ctx {
	u64 until;
	u64 loops;
};

static long burn_step(u32 idx, struct burn_ctx *b)
{
	b->loops++;
	return bpf_ktime_get_ns() >= b->until; /* 1 stops the loop */
}

s32 BPF_STRUCT_OPS(slow_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);

	if (idle)
		scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SLOW_SLICE_NS, 0);
	return cpu;
}

void BPF_STRUCT_OPS(slow_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dispatch(p, SHARED_DSQ, SLOW_SLICE_NS, enq_flags);
}

void BPF_STRUCT_OPS(slow_dispatch, s32 cpu, struct task_struct *prev)
{
	struct burn_ctx b = { .until = bpf_ktime_get_ns() + BURN_NS };

	bpf_loop(BURN_MAX_LOOPS, burn_step, &b, 0);
	ktstr_count(CNT_BURN_LOOPS, b.loops);
	if (scx_bpf_consume(SHARED_DSQ))
		ktstr_count(CNT_DISPATCHED, 1);
}

KTSTR_SCHED_INIT_EXIT(slow, SHARED_DSQ)

KTSTR_SCHED_OPS(slow_ops, slow, "slow", .select_cpu = (void *)slow_select_cpu,
		.enqueue = (void *)slow_enqueue, .dispatch = (void *)slow_dispatch);
