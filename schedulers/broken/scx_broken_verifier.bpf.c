/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TEST FIXTURE: a scheduler the BPF verifier rejects. Its ops.dispatch() writes through a
 * map lookup's result without checking it for NULL, so loading fails with "R0 invalid mem
 * access 'map_value_or_null'"; the verifier cell must fail it with that line and the log's
 * end (//schedulers:verifier_rejection_test).
 */
#include "ktstr_sched.bpf.h"

#define Q 0

KTSTR_SCHED_PREAMBLE(1);

void BPF_STRUCT_OPS(rej_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dispatch(p, Q, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(rej_dispatch, s32 cpu, struct task_struct *prev)
{
	u32 zero = 0;
	u64 *cnt = bpf_map_lookup_elem(&counters, &zero);

	/* The bug: no NULL check before the write. */
	(*cnt)++;
	scx_bpf_consume(Q);
}

KTSTR_SCHED_INIT_EXIT(rej, Q)

KTSTR_SCHED_OPS(rejected_ops, rej, "broken_verifier", .enqueue = (void *)rej_enqueue,
		.dispatch = (void *)rej_dispatch);
