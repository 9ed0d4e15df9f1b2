/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TEST FIXTURE: a scheduler that reports an error on purpose. It schedules FIFO from a
 * shared queue and, 300 ms after its first dispatch, calls scx_bpf_error(); the kernel
 * ejects it ("disabled (scx_bpf_error)") with the message below. ktstr's negative tests
 * expect it.
 */
#include "ktstr_sched.bpf.h"

#define Q 0
#define ERROR_AFTER_NS (300ULL * 1000 * 1000)

KTSTR_SCHED_PREAMBLE(1);

static u64 first_dispatch_ns;
static bool reported;

void BPF_STRUCT_OPS(err_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dispatch(p, Q, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(err_dispatch, s32 cpu, struct task_struct *prev)
{
	if (!scx_bpf_consume(Q))
		return;
	ktstr_count(0, 1);
	u64 now = bpf_ktime_get_ns();

	if (!first_dispatch_ns)
		first_dispatch_ns = now;
	if (!reported && now - first_dispatch_ns >= ERROR_AFTER_NS) {
		reported = true;
		scx_bpf_error("ktstr-broken: deliberate error %llu ms after the first dispatch",
			      (now - first_dispatch_ns) / 1000000);
	}
}

KTSTR_SCHED_INIT_EXIT(err, Q)

KTSTR_SCHED_OPS(error_ops, err, "broken_error", .enqueue = (void *)err_enqueue,
		.dispatch = (void *)err_dispatch);
