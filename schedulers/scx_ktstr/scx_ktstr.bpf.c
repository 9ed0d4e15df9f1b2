/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_ktstr: ktstr's own example scheduler, a global weighted-vtime queue.
 *
 * Waking tasks go straight to an idle CPU's local queue when one exists; everything else
 * waits in one shared DSQ ordered by virtual time, which advances by the slice used scaled
 * by 100 / weight (so nice levels and cgroup weights matter). A task that slept keeps at
 * most half a slice of credit, so sleepers cannot bank time and then monopolise a CPU.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

UEI_DEFINE(uei);

#define SHARED_DSQ 0

enum { CNT_DIRECT, CNT_QUEUED, CNT_CONSUMED, NR_CNT };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u64));
	__uint(max_entries, NR_CNT);
} counters SEC(".maps");

static u64 clock_vtime;

static void bump(u32 which)
{
	u64 *cnt = bpf_map_lookup_elem(&counters, &which);

	if (cnt)
		(*cnt)++;
}

static bool earlier(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

s32 BPF_STRUCT_OPS(ktstr_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);

	if (idle) {
		bump(CNT_DIRECT);
		scx_bpf_dispatch(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
	}
	return cpu;
}

void BPF_STRUCT_OPS(ktstr_enqueue, struct task_struct *p, u64 enq_flags)
{
	u64 floor = clock_vtime - SCX_SLICE_DFL / 2;
	u64 vtime = p->scx.dsq_vtime;

	if (earlier(vtime, floor))
		vtime = floor;
	bump(CNT_QUEUED);
	scx_bpf_dispatch_vtime(p, SHARED_DSQ, SCX_SLICE_DFL, vtime, enq_flags);
}

void BPF_STRUCT_OPS(ktstr_dispatch, s32 cpu, struct task_struct *prev)
{
	if (scx_bpf_consume(SHARED_DSQ))
		bump(CNT_CONSUMED);
}

void BPF_STRUCT_OPS(ktstr_running, struct task_struct *p)
{
	if (earlier(clock_vtime, p->scx.dsq_vtime))
		clock_vtime = p->scx.dsq_vtime;
}

void BPF_STRUCT_OPS(ktstr_stopping, struct task_struct *p, bool runnable)
{
	u64 used = SCX_SLICE_DFL - p->scx.slice;

	p->scx.dsq_vtime += used * 100 / p->scx.weight;
}

void BPF_STRUCT_OPS(ktstr_enable, struct task_struct *p)
{
	p->scx.dsq_vtime = clock_vtime;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(ktstr_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

void BPF_STRUCT_OPS(ktstr_exit, struct scx_exit_info *ei)
{
	UEI_RECORD(uei, ei);
}

SCX_OPS_DEFINE(ktstr_ops,
	       .select_cpu = (void *)ktstr_select_cpu,
	       .enqueue = (void *)ktstr_enqueue,
	       .dispatch = (void *)ktstr_dispatch,
	       .running = (void *)ktstr_running,
	       .stopping = (void *)ktstr_stopping,
	       .enable = (void *)ktstr_enable,
	       .init = (void *)ktstr_init,
	       .exit = (void *)ktstr_exit,
	       .name = "ktstr");
