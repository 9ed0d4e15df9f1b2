/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TEST FIXTURE: a scheduler that reports an error on purpose. It schedules FIFO from a
 * shared queue and, 300 ms after its first dispatch, calls scx_bpf_error(); the kernel
 * ejects it ("disabled (scx_bpf_error)") with the message below. ktstr's negative tests
 * expect it.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

UEI_DEFINE(uei);

#define Q 0
#define ERROR_AFTER_NS (300ULL * 1000 * 1000)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u64));
	__uint(max_entries, 1);
} counters SEC(".maps");

static u64 first_dispatch_ns;
static bool reported;

void BPF_STRUCT_OPS(err_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dispatch(p, Q, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(err_dispatch, s32 cpu, struct task_struct *prev)
{
	u32 zero = 0;
	u64 *cnt = bpf_map_lookup_elem(&counters, &zero);

	if (!scx_bpf_consume(Q))
		return;
	if (cnt)
		(*cnt)++;
	u64 now = bpf_ktime_get_ns();

	if (!first_dispatch_ns)
		first_dispatch_ns = now;
	if (!reported && now - first_dispatch_ns >= ERROR_AFTER_NS) {
		reported = true;
		scx_bpf_error("ktstr-broken: deliberate error %llu ms after the first dispatch",
			      (now - first_dispatch_ns) / 1000000);
	}
}

s32 BPF_STRUCT_OPS_SLEEPABLE(err_init)
{
	return scx_bpf_create_dsq(Q, -1);
}

void BPF_STRUCT_OPS(err_exit, struct scx_exit_info *ei)
{
	UEI_RECORD(uei, ei);
}

SCX_OPS_DEFINE(error_ops,
	       .enqueue = (void *)err_enqueue,
	       .dispatch = (void *)err_dispatch,
	       .init = (void *)err_init,
	       .exit = (void *)err_exit,
	       .name = "broken_error");
