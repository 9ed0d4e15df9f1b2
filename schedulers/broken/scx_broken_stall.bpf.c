/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TEST FIXTURE: a scheduler that stalls on purpose. It runs tasks normally for 300 ms after
 * its first dispatch, then stops consuming its queue; with a 500 ms watchdog the kernel
 * ejects it with "runnable task stall". ktstr's negative tests expect exactly that verdict.
 * (Time, not event counts: an emulated guest schedules far less often than real hardware.)
 */
#include "ktstr_sched.bpf.h"

#define Q 0
#define HEALTHY_NS (300ULL * 1000 * 1000)

KTSTR_SCHED_PREAMBLE(1);

static u64 first_dispatch_ns;

void BPF_STRUCT_OPS(stall_enqueue, struct task_struct *p, u64 enq_flags)
{
	ktstr_count(0, 1);
	scx_bpf_dispatch(p, Q, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(stall_dispatch, s32 cpu, struct task_struct *prev)
{
	u64 now = bpf_ktime_get_ns();

	if (!first_dispatch_ns)
		first_dispatch_ns = now;
	if (now - first_dispatch_ns < HEALTHY_NS)
		scx_bpf_consume(Q);
	/* afterwards: never consume, so queued tasks stay runnable and starve */
}

KTSTR_SCHED_INIT_EXIT(stall, Q)

KTSTR_SCHED_OPS(stall_ops, stall, "broken_stall", .enqueue = (void *)stall_enqueue,
		.dispatch = (void *)stall_dispatch, .timeout_ms = 500);
