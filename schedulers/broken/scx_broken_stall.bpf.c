/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TEST FIXTURE: a scheduler that stalls on purpose. It runs tasks normally for 300 ms after
 * its first dispatch, then stops consuming its queue; with a 500 ms watchdog the kernel
 * ejects it with "runnable task stall". ktstr's negative tests expect exactly that verdict.
 * (Time, not event counts: an emulated guest schedules far less often than real hardware.)
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

UEI_DEFINE(uei);

#define Q 0
#define HEALTHY_NS (300ULL * 1000 * 1000)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u64));
	__uint(max_entries, 1);
} counters SEC(".maps");

static u64 first_dispatch_ns;

void BPF_STRUCT_OPS(stall_enqueue, struct task_struct *p, u64 enq_flags)
{
	u32 zero = 0;
	u64 *cnt = bpf_map_lookup_elem(&counters, &zero);

	if (cnt)
		(*cnt)++;
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

s32 BPF_STRUCT_OPS_SLEEPABLE(stall_init)
{
	return scx_bpf_create_dsq(Q, -1);
}

void BPF_STRUCT_OPS(stall_exit, struct scx_exit_info *ei)
{
	UEI_RECORD(uei, ei);
}

SCX_OPS_DEFINE(stall_ops,
	       .enqueue = (void *)stall_enqueue,
	       .dispatch = (void *)stall_dispatch,
	       .init = (void *)stall_init,
	       .exit = (void *)stall_exit,
	       .timeout_ms = 500,
	       .name = "broken_stall");
