/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TEST FIXTURE: a scheduler the BPF verifier rejects. Its ops.dispatch() writes through a
 * map lookup's result without checking it for NULL, so loading fails with "R0 invalid mem
 * access 'map_value_or_null'"; the verifier cell must fail it with that line and the log's
 * end (//schedulers:verifier_rejection_test).
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

UEI_DEFINE(uei);

#define Q 0

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u64));
	__uint(max_entries, 1);
} counters SEC(".maps");

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

s32 BPF_STRUCT_OPS_SLEEPABLE(rej_init)
{
	return scx_bpf_create_dsq(Q, -1);
}

void BPF_STRUCT_OPS(rej_exit, struct scx_exit_info *ei)
{
	UEI_RECORD(uei, ei);
}

SCX_OPS_DEFINE(rejected_ops,
	       .enqueue = (void *)rej_enqueue,
	       .dispatch = (void *)rej_dispatch,
	       .init = (void *)rej_init,
	       .exit = (void *)rej_exit,
	       .name = "broken_verifier");
